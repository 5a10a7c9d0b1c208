"""Real small models through the toolkit: pass@1 solo vs self_refine, per packaged model.

    python bench/real_models.py                          # all 164 HumanEval problems, both models
    python bench/real_models.py --limit 20 --models smollm2:135m --json out.json
    python bench/real_models.py --from-logs DIR         # the table of an earlier run, from its logs
    nice -n 19 python bench/real_models.py --max-tokens 512 --save-answers tests/fixtures/real_outputs

SmolLM2-135M-Instruct and Gemma 3 270M (the `real-models` extra) are served by
llama.cpp's server behind the Ollama stand-in of tests/support/real_models.py and called
as `ollama/<name>`, exactly as a user's Ollama model is; every program is graded in the
Docker sandbox. For each model and pipeline it prints pass@1, the error types of the first
draft and of the final code, model time vs harness time per sample (model time: the sum
of the sample's model-call durations; harness: the rest of its wall time), and the share
of answers whose code extraction dropped top-level code the model wrote (its own
`print(...)` examples, asserts, calls), which then never reached the grader - and of those
whose graded code kept it (the model's examples then run before the tests).
self_refine's first drafts are read from Inspect's cache, filled by the solo run of the
same model in the same invocation (the same call): the two rows differ by refinement alone.

Results and the machine they came from: bench/README.md.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the real-model support shared with the tests

from support.real_models import GEMMA3, SMOLLM2, real_ollama, unavailable_reason  # noqa: E402

from inspect_ai import eval as inspect_eval  # noqa: E402
from inspect_ai.model import CachePolicy  # noqa: E402
from inspect_ai.event import ModelEvent  # noqa: E402
from inspect_ai.log import EvalLog, EvalSample, read_eval_log  # noqa: E402

from fof_inspect.grading.extract import extract  # noqa: E402
from fof_inspect.solvers import pipeline  # noqa: E402
from fof_inspect.tasks.humaneval import humaneval  # noqa: E402

FENCE = re.compile(r"```[\w+-]*\n(.*?)(?:```|\Z)", re.DOTALL)


def genome(tmp: Path, name: str, model: str, refine: bool, max_tokens: int) -> Path:
    """A solo or self_refine genome (the shipped ones, with the model replaced)."""
    lines = [f"name: {name}",
             f"generator: {{model: ollama/{model}, prompt: plain, temperature: 0.7, max_tokens: {max_tokens}}}"]
    if refine:
        lines += ["stages:", "  - innovation: 0", "    max_iterations: 3",
                  f"    refiner: {{model: ollama/{model}, prompt: fix, temperature: 0.5, max_tokens: {max_tokens}}}"]
    path = tmp / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def top_level_code(code: str) -> list[str]:
    """Statements outside any def/class/import in one code block (the model's own examples)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    kept = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
    return [ast.get_source_segment(code, node) or "" for node in tree.body
            if not isinstance(node, kept) and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]


def extracted_code(completion: str, entry_point: str | None) -> str:
    """The code the grader takes from `completion` (the default policy, sanitize)."""
    return extract(completion, {"entry_point": entry_point}).code or ""


def dropped_top_level(completion: str, entry_point: str | None) -> bool:
    """Did extraction leave out top-level code the model wrote in a code block?"""
    extracted = extracted_code(completion, entry_point)
    blocks = FENCE.findall(completion) or [completion]
    return any(stmt and stmt not in extracted for block in blocks for stmt in top_level_code(block))


def kept_top_level(completion: str, entry_point: str | None) -> bool:
    """Did the graded code keep top-level code the model wrote (its examples run with the tests)?"""
    return bool(top_level_code(extracted_code(completion, entry_point)))


def model_seconds(sample: EvalSample) -> float:
    return sum((e.completed - e.timestamp).total_seconds() for e in sample.events
               if isinstance(e, ModelEvent) and e.completed is not None)


def summarise(log: EvalLog) -> dict[str, Any]:
    samples = log.samples or []
    scores = [s.scores["pass_at_1"] for s in samples if s.scores]
    first = Counter((sc.metadata.get("first_error_type") or "pass") for sc in scores if "trace" in sc.metadata)
    final = Counter(sc.metadata.get("error_type") or "pass" for sc in scores)
    completions = [(e.output.completion, s.metadata.get("entry_point")) for s in samples for e in s.events
                   if isinstance(e, ModelEvent) and e.output and e.output.completion]
    truncated = sum(1 for s in samples for e in s.events
                    if isinstance(e, ModelEvent) and e.output and e.output.stop_reason == "max_tokens")
    model = [model_seconds(s) for s in samples]
    wall = [s.total_time or 0.0 for s in samples]
    return {
        "samples": len(samples), "errors": sum(1 for s in samples if s.error),
        "passed": sum(1 for sc in scores if sc.value == "C"),
        "first_error_types": dict(first.most_common()), "final_error_types": dict(final.most_common()),
        "model_s_per_sample": statistics.median(model) if model else 0.0,
        "harness_s_per_sample": statistics.median(w - m for w, m in zip(wall, model)) if model else 0.0,
        "answers": len(completions), "truncated_at_max_tokens": truncated,
        "tokens_per_s": tokens_per_second(samples),
        "dropped_top_level": sum(dropped_top_level(c, ep) for c, ep in completions),
        "kept_top_level": sum(kept_top_level(c, ep) for c, ep in completions),
        **refinement_counts(samples),
    }


def tokens_per_second(samples: list[EvalSample]) -> float:
    """Generated tokens per second of model-call time, over the calls the server answered
    (not Inspect's cache): the serving speed the other figures rest on."""
    calls = [e for s in samples for e in s.events if isinstance(e, ModelEvent) and e.completed is not None
             and e.cache != "read" and e.output and e.output.usage]
    seconds = sum((e.completed - e.timestamp).total_seconds() for e in calls)
    return sum(e.output.usage.output_tokens for e in calls) / seconds if seconds else 0.0


def run_record(log: EvalLog) -> dict[str, Any]:
    """One row of the table from an eval's log: the model, the pipeline (its genome file's
    name), the eval's wall time and the figures of `summarise`."""
    step = log.plan.steps[0] if log.plan.steps else None
    genome_file = str((step.params if step else {}).get("genome", "unknown"))
    wall = 0.0
    if log.stats.started_at and log.stats.completed_at:
        wall = (datetime.fromisoformat(log.stats.completed_at) - datetime.fromisoformat(log.stats.started_at)).total_seconds()
    return {"model": log.eval.model.removeprefix("ollama/"), "pipeline": Path(genome_file).stem,
            "wall_s": wall, **summarise(log)}


def refinement_counts(samples: list[EvalSample]) -> dict[str, int]:
    """How refinement changed the verdicts: model calls after the first draft, those after a
    passing draft (must be 0), calls answered from the cache (the drafts shared with solo
    included), final error types that differ from the first draft's, and failures that
    refinement turned into a SyntaxError."""
    counts = Counter()
    for sample in samples:
        score = (sample.scores or {}).get("pass_at_1")
        calls = [e for e in sample.events if isinstance(e, ModelEvent)]
        if score is None or "trace" not in score.metadata or not calls:
            continue
        first, final = score.metadata.get("first_error_type"), score.metadata.get("error_type")
        counts["refinement_calls"] += len(calls) - 1
        counts["refined_after_pass"] += first is None and len(calls) > 1
        counts["cache_reads"] += sum(e.cache == "read" for e in calls)
        counts["changed_error_type"] += first != final
        counts["became_syntax_error"] += first not in (None, "SyntaxError") and final == "SyntaxError"
    return dict(counts)


def save_answers(log: EvalLog, folder: Path, model: str, how_many: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for sample in (log.samples or [])[:how_many]:
        for event in sample.events:
            if isinstance(event, ModelEvent) and event.output and event.output.completion:
                name = f"{model.replace(':', '-')}_{str(sample.id).replace('/', '-')}.txt"
                (folder / name).write_text(event.output.completion)
                break


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=f"{SMOLLM2},{GEMMA3}")
    parser.add_argument("--limit", type=int, default=None, help="HumanEval problems (default: all 164)")
    parser.add_argument("--max-tokens", type=int, default=512, help="per completion (the genomes' default is 1024)")
    parser.add_argument("--max-connections", type=int, default=1,
                        help="open requests (llama.cpp's server answers one at a time; 1 keeps its prompt cache)")
    parser.add_argument("--omp-wait", choices=("active", "passive"), default="active",
                        help="llama.cpp's OpenMP wait policy: active is faster per token on a quiet "
                             "machine; passive for a loaded one, where spinning threads crawl")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--log-dir", help="keep the Inspect logs here (default: a temporary folder)")
    parser.add_argument("--save-answers", help="write a few first drafts here (tests/fixtures/real_outputs)")
    parser.add_argument("--from-logs", metavar="DIR",
                        help="print the table from the logs of an earlier run (its --log-dir), running nothing")
    args = parser.parse_args()
    if args.from_logs:
        return print_from_logs(Path(args.from_logs))
    if (reason := unavailable_reason()) is not None:
        print(reason, file=sys.stderr)
        return 1
    models = args.models.split(",")
    os.environ["OMP_WAIT_POLICY"] = args.omp_wait  # read by the model servers real_ollama starts
    results: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
                               "limit": args.limit or 164, "max_tokens": args.max_tokens,
                               "max_connections": args.max_connections, "omp_wait": args.omp_wait, "runs": []}
    # one cache scope per run of this script: self_refine's first drafts are solo's (the same
    # call, read from Inspect's cache), so the two rows differ by refinement alone (paired)
    drafts = CachePolicy(expiry="1D", scopes={"bench": "real_models", "run": str(time.time_ns())})
    with real_ollama(tuple(models), aliases={}) as ollama, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(ollama.env())
        for model in models:
            for refine in (False, True):
                name = "self_refine" if refine else "solo"
                spec = str(genome(Path(tmp), name, model, refine, args.max_tokens))
                [log] = inspect_eval(humaneval(solver=pipeline(genome=spec, cache=drafts)),
                                     model=f"ollama/{model}", limit=args.limit, display="none",
                                     max_connections=args.max_connections, log_dir=args.log_dir or str(Path(tmp) / "logs"))
                run = run_record(log)
                results["runs"].append(run)
                print(json.dumps(run), flush=True)
                if args.save_answers and not refine:
                    save_answers(log, Path(args.save_answers), model, 4)
                if args.json:
                    Path(args.json).write_text(json.dumps(results, indent=2))
    print_table(results)
    return 0


def print_from_logs(folder: Path) -> int:
    """The table of an earlier run, from its finished logs (oldest first, as it ran them)."""
    files = sorted(folder.glob("*.eval"))
    logs = [log for log in (read_eval_log(str(f)) for f in files) if log.status == "success"]
    if not logs:
        print(f"no finished eval logs in {folder} (a run's --log-dir holds them)", file=sys.stderr)
        return 1
    max_tokens = {e.config.max_tokens for log in logs for s in log.samples or [] for e in s.events
                  if isinstance(e, ModelEvent)} - {None}
    print_table({"machine": "as recorded in bench/README.md", "limit": max(len(log.samples or []) for log in logs),
                 "max_tokens": ", ".join(map(str, sorted(max_tokens))) or "?", "runs": [run_record(log) for log in logs]})
    return 0


def print_table(results: dict[str, Any]) -> None:
    print(f"\nHumanEval, {results['limit']} problems, max_tokens {results['max_tokens']}; {results['machine']}")
    print("| model | pipeline | pass@1 | first draft errors | final errors | model s/sample (tokens/s) | harness s/sample "
          "| answers cut at max_tokens | extraction dropped / kept top-level code |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results["runs"]:
        top = lambda c: ", ".join(f"{k} {v}" for k, v in list(c.items())[:5])  # noqa: E731
        print(f"| {r['model']} | {r['pipeline']} | {r['passed']}/{r['samples']} | {top(r['first_error_types']) or '-'} "
              f"| {top(r['final_error_types'])} | {r['model_s_per_sample']:.1f} ({r['tokens_per_s']:.1f} tok/s) | {r['harness_s_per_sample']:.2f} "
              f"| {r['truncated_at_max_tokens']}/{r['answers']} | {r['dropped_top_level']} / {r['kept_top_level']} "
              f"of {r['answers']} |")
    for r in results["runs"]:
        print(f"{r['model']} {r['pipeline']}: {r.get('refinement_calls', 0)} calls after the first draft "
              f"({r.get('refined_after_pass', 0)} after a passing one), {r.get('cache_reads', 0)} answered from the "
              f"cache, final error type changed in {r.get('changed_error_type', 0)}, "
              f"{r.get('became_syntax_error', 0)} failures turned into a SyntaxError")


if __name__ == "__main__":
    sys.exit(main())
