"""What the harness costs around the model: overhead, model utilisation, search cost.

    python bench/harness.py --quick                  # smoke run, under 2 minutes
    python bench/harness.py                          # the issue's sizes, 3 repeats
    python bench/harness.py --only utilisation --repeats 5 --json out.json

Every figure comes from real Inspect evals of the real pipelines, through Inspect's
`ollama/` provider over HTTP to a simulated Ollama (tests/support/fake_ollama.py: scripted
answers, a per-request latency and an OLLAMA_NUM_PARALLEL-like slot limit), with every
program graded in the Docker sandbox (set-up and tear-down included in wall times).

  overhead     (target 2) HumanEval (164) with `self_refine` at zero model latency; the
               first draft fails and the refiner fixes it on its 1st or 2nd call (half
               each), so iterations really happen. Goal: wall time <= 60 s.
  utilisation  (target 3) latency 1 s, 4 slots: fraction of slot-time busy across an
               eval of `self_refine` and across one search generation (all genomes
               evaluated concurrently, as `fof evolve` does), per Inspect setting.
               Goal: >= 90 %.
  search       (target 4) one bred generation at 0.2 s latency, 4 slots: model calls
               with and without the generation cache `fof evolve` uses, and wall time
               with genomes evaluated concurrently vs one after another.

Variants are run interleaved (repeat 1 of every variant, then repeat 2, ...), so
ratios compare runs made under the same machine load; the table shows medians over
repeats (and the min-max range). The load average is printed with the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import traceback
import uuid
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the fake Ollama server and its script helpers

from support.fake_ollama import FakeOllama, Request  # noqa: E402
from support.scripted_model import fenced, node_kind  # noqa: E402
from support.serving import serving  # noqa: E402

from inspect_ai import eval as inspect_eval  # noqa: E402
from inspect_ai.event import ModelEvent, SandboxEvent  # noqa: E402
from inspect_ai.log import EvalLog, read_eval_log  # noqa: E402
from inspect_ai.model import CachePolicy  # noqa: E402

from fof_inspect.datasets import humaneval_dataset  # noqa: E402
from fof_inspect.genome import Genome  # noqa: E402
from fof_inspect.scorers.pass_at_1 import pass_at_1_score, passed  # noqa: E402
from fof_inspect.search.config import RunConfig  # noqa: E402
from fof_inspect.search.engine import Search  # noqa: E402
from fof_inspect.search.evaluation import GenomeEvaluation, evaluate_genomes, genome_task  # noqa: E402
from fof_inspect.solvers import self_refine  # noqa: E402
from fof_inspect.search.subsets import generation_problems  # noqa: E402
from fof_inspect.tasks.humaneval import humaneval  # noqa: E402

SELF_REFINE_MODEL = "llama3.2:3b"
POOL = ["ollama/good:1b", "ollama/bad:1b", "ollama/worse:1b"]
"""The search's model pool: only a refiner on good:1b fixes code (as in tests/search/test_evolve.py)."""
SEED = 7
warnings.filterwarnings("ignore", message="no baseline pass rates")  # random subsets are fine here
EVAL_ARGS: dict[str, Any] = {"display": "none", "log_level": "warning"}
"""What `fof evolve` passes to every eval; the benchmark's evals use it too."""

Settings = dict[str, Any]


# ---- the simulated model ------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    index: int
    prompt: str
    entry_point: str
    reference: str


PROBLEMS = [
    Problem(i, s.metadata["prompt"], s.metadata["entry_point"], s.metadata["reference"])
    for i, s in enumerate(humaneval_dataset())
]


def find_problem(request: Request) -> Problem | None:
    """The HumanEval problem a request is about (the longest prompt it contains)."""
    text = request.last_user
    found = [p for p in PROBLEMS if p.prompt in text]
    return max(found, key=lambda p: len(p.prompt)) if found else None


def draft(p: Problem) -> str:
    return fenced(f'def {p.entry_point}(*args, **kwargs):\n    raise NotImplementedError("first draft")')


def second_try(p: Problem) -> str:
    return fenced(f"def {p.entry_point}(*args, **kwargs):\n    return None  # second try")


def self_refine_script(request: Request) -> str:
    """Drafts fail; the refiner fixes even-numbered problems at once, odd ones on its 2nd call.

    Stateless (decided from the request alone), so repeats, epochs and caches all see the
    same answers for the same request.
    """
    p = find_problem(request)
    if p is None:
        return fenced("def unknown_problem():\n    return None")
    if node_kind(request) == "refiner":
        if p.index % 2 == 1 and "first draft" in request.last_user:
            return second_try(p)
        return fenced(p.reference)
    return draft(p)


def search_script(request: Request) -> str:
    """Drafts fail; only a refiner on good:1b fixes them; analyzers say something short."""
    p = find_problem(request)
    kind = node_kind(request)
    if kind == "analyzer":
        return "The function raises instead of computing the result."
    if kind == "refiner" and request.model == "good:1b" and p is not None:
        return fenced(p.reference)
    return draft(p) if p is not None else fenced("def unknown_problem():\n    return None")


# ---- measuring one eval -------------------------------------------------------------


@dataclass
class Run:
    """What one measured run produced: named figures, plus checks that make them meaningful."""

    figures: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def full_logs(logs: list[EvalLog]) -> list[EvalLog]:
    return [log if log.samples else read_eval_log(log.location) for log in logs]


def sample_counts(logs: list[EvalLog]) -> dict[str, float]:
    """Samples, passes, program executions, model events and cache reads over logs."""
    counts: Counter[str] = Counter()
    for log in logs:
        if log.status != "success":
            raise RuntimeError(f"eval {log.eval.task} ended {log.status}: {log.error.message if log.error else ''}")
        for sample in log.samples or []:
            counts["samples"] += 1
            score = pass_at_1_score(sample.scores)
            counts["passed"] += passed(score)
            counts["refiner_calls"] += int((score.metadata or {}).get("iterations") or 0) if score else 0
            for event in sample.events:
                if isinstance(event, SandboxEvent) and event.action == "exec":
                    counts["execs"] += 1
                elif isinstance(event, ModelEvent):
                    counts["model_events"] += 1
                    counts["cache_reads"] += event.cache == "read"
    return dict(counts)


def slot_figures(server: FakeOllama, wall: float) -> dict[str, float]:
    """Busy fraction of the slots (over the served window and over the whole eval), queueing."""
    spans = server.spans
    slots = server.parallel or 1
    busy = sum(s.busy for s in spans)
    return {
        "busy_window": server.busy_fraction(),
        "busy_wall": busy / (slots * wall) if wall > 0 else 0.0,
        "max_in_flight": server.max_in_flight,
        "max_queue_wait": max((s.start - s.arrived for s in spans), default=0.0),
        "server_calls": len(server.requests),
    }


def timed_eval(work: Callable[[], list[EvalLog]]) -> tuple[list[EvalLog], float]:
    started = time.perf_counter()
    logs = work()
    return logs, time.perf_counter() - started


# ---- target 2: harness overhead -------------------------------------------------------


def self_refine_eval(n: int, log_dir: Path, settings: Settings) -> tuple[list[EvalLog], float]:
    """HumanEval's first `n` problems with self_refine against the serving fake; logs and wall time."""
    return timed_eval(
        lambda: inspect_eval(
            humaneval(solver=self_refine()),
            model=f"ollama/{SELF_REFINE_MODEL}",
            limit=n,
            log_dir=str(log_dir),
            **EVAL_ARGS,
            **settings,
        )
    )


def overhead_run(n: int, settings: Settings, workdir: Path) -> Run:
    """HumanEval's first `n` problems with self_refine at zero latency (unlimited slots)."""
    with serving(self_refine_script, {SELF_REFINE_MODEL}, latency=0.0, parallel=None) as server:
        logs, wall = self_refine_eval(n, workdir / f"overhead-{uuid.uuid4().hex[:8]}", settings)
        calls = len(server.requests)
    counts = sample_counts(full_logs(logs))
    run = Run({"wall_s": wall, "samples_per_s": counts["samples"] / wall, "execs": counts["execs"],
               "execs_per_s": counts["execs"] / wall, "server_calls": calls, "model_events": counts["model_events"],
               "refiner_calls": counts["refiner_calls"], "pass_rate": counts["passed"] / counts["samples"]})
    expected_refiner = n // 2 + 2 * (n - n // 2)  # even problems: 1 refiner call, odd ones: 2
    if counts["samples"] != n or counts["passed"] != n or counts["refiner_calls"] != expected_refiner:
        run.problems.append(
            f"expected {n}/{n} passed after {expected_refiner} refiner calls, got "
            f"{counts['passed']}/{counts['samples']} after {counts['refiner_calls']}"
        )
    return run


# ---- target 3: utilisation of the model's slots ---------------------------------------


def utilisation_eval_run(n: int, latency: float, parallel: int, settings: Settings, workdir: Path) -> Run:
    """self_refine on `n` problems against a slow model with `parallel` slots."""
    with serving(self_refine_script, {SELF_REFINE_MODEL}, latency=latency, parallel=parallel) as server:
        logs, wall = self_refine_eval(n, workdir / f"util-eval-{uuid.uuid4().hex[:8]}", settings)
        figures = slot_figures(server, wall)
    counts = sample_counts(full_logs(logs))
    run = Run({"wall_s": wall, **figures})
    if counts["passed"] != n:
        run.problems.append(f"only {counts['passed']}/{n} passed")
    return run


@dataclass
class Generation:
    """One bred search generation, ready to evaluate as `fof evolve` would."""

    population: dict[str, Genome]
    problems: list[str]
    evals: int
    regime: str


def bred_generation(population: int, subset: int, evals: int, workdir: Path) -> Generation:
    """The second generation of a seeded `fof evolve` run (the first shares no node, as its
    temperatures are random; children share their parents' genes, which the cache exploits).

    The first generation's fitness is what evaluating it against `search_script` yields
    (every problem solved iff a stage refines with good:1b), so no eval is needed to breed.
    """
    run_dir = workdir / f"evolve-{uuid.uuid4().hex[:8]}"
    config = RunConfig(models=POOL, population=population, subset=subset, evals=evals, seed=SEED, validate_runs=0,
                       run_dir=str(run_dir))
    search = Search.start(config, run_dir)
    state = search.state
    results = {
        gid: GenomeEvaluation(
            genome_id=gid,
            log="",
            runs=[subset if any(s.refiner.model == POOL[0] for s in genome.stages) else 0] * evals,
            model_calls=0,
            cache_reads=0,
        )
        for gid, genome in state.population.items()
    }
    _, species = search.summarise(results, 0.0)
    search.advance(results, species)
    return Generation(dict(state.population), generation_problems(state.columns, state.generation), evals,
                      state.config.regime)


def generation_run(gen: Generation, latency: float, parallel: int, settings: Settings, cache: bool,
                   workdir: Path) -> Run:
    """Evaluate one generation as `fof evolve` does (`evaluate_genomes`), with `settings`
    (max_tasks=1 evaluates the genomes one after another) and the search's generation
    cache (per epoch, scoped to a fresh run and generation) or none."""
    dataset = humaneval_dataset()
    scope = uuid.uuid4().hex[:8]
    policy: bool | CachePolicy = (
        CachePolicy(expiry=None, per_epoch=True, scopes={"fof_run": f"bench-{scope}", "generation": "1"})
        if cache else False
    )
    models = {m.split("/", 1)[1] for m in POOL}
    with serving(search_script, models, latency=latency, parallel=parallel) as server:
        tasks = {gid: genome_task(dataset, gid, genome, gen.problems, gen.evals, gen.regime, policy)
                 for gid, genome in gen.population.items()}  # after the server starts: preflight
        log_dir = workdir / f"gen-{scope}"
        settings = dict(settings)
        max_tasks = settings.pop("max_tasks", None)
        started = time.perf_counter()
        results = evaluate_genomes(tasks, log_dir, model=POOL[0], max_tasks=max_tasks, **EVAL_ARGS, **settings)
        wall = time.perf_counter() - started
        figures = slot_figures(server, wall)
    model_events = sum(r.model_calls for r in results.values())
    cache_reads = sum(r.cache_reads for r in results.values())
    return Run({"wall_s": wall, **figures, "model_events": model_events, "cache_reads": cache_reads,
                "solved": sum(sum(r.runs) for r in results.values())})


# ---- running variants side by side ----------------------------------------------------


@dataclass
class Case:
    """One variant of one measurement: how to run it once."""

    target: str
    name: str
    settings_text: str
    run: Callable[[], Run]
    runs: list[Run] = field(default_factory=list)


MEASURED: list[Case] = []
"""Every case run so far, for the footer and --json."""


def run_cases(cases: list[Case], repeats: int, budget: float, label: str) -> None:
    """Repeat 1 of every case, then repeat 2, ...; stop repeating once `budget` s have passed."""
    MEASURED.extend(cases)
    started = time.monotonic()
    for r in range(repeats):
        if r and time.monotonic() - started > budget:
            print(f"[{label}] budget of {budget:.0f} s spent after {r} repeat(s): stopping", flush=True)
            break
        for case in cases:
            t0 = time.monotonic()
            run = attempt(case, label)
            case.runs.append(run)
            shown = ", ".join(f"{k}={v:.3g}" for k, v in run.figures.items() if k not in ("retries", "load"))
            print(f"[{label}] repeat {r + 1} {case.name}: {shown} ({time.monotonic() - t0:.0f} s, "
                  f"load {os.getloadavg()[0]:.1f})", flush=True)
            for problem in run.problems:
                print(f"[{label}]   INVALID: {problem}", flush=True)


RETRIES = 2


def attempt(case: Case, label: str) -> Run:
    """One run, tried again (at most RETRIES times) if it fails, e.g. when a test run on the
    same machine removes its containers while a sandbox start-up lists them."""
    for tries in range(RETRIES + 1):
        try:
            run = case.run()
            run.figures["retries"] = tries
            run.figures["load"] = os.getloadavg()[0]
            return run
        except Exception as ex:  # noqa: BLE001 - reported, then retried or raised
            print(f"[{label}] {case.name} failed ({type(ex).__name__}: {str(ex)[:300]})", flush=True)
            if tries == RETRIES:
                raise
    raise AssertionError("unreachable")


# ---- the table ------------------------------------------------------------------------

COLUMNS = ["target", "case", "Inspect settings", "runs", "wall s", "samples/s", "execs", "model calls sent/made",
           "busy % calls→", "busy % eval", "open req / wait s", "goal", "side by side (paired medians)"]


def shown(case: Case, key: str, fmt: str, scale: float = 1.0) -> str:
    """Median over the case's runs, with the range when repeats differ."""
    values = [run.figures[key] * scale for run in case.runs if key in run.figures]
    if not values:
        return ""
    mid, lo, hi = statistics.median(values), min(values), max(values)
    text = fmt.format(mid)
    return text if len(values) < 2 or fmt.format(lo) == fmt.format(hi) else f"{text} ({fmt.format(lo)}–{fmt.format(hi)})"


def row(case: Case, goal: str = "", note: str = "") -> list[str]:
    calls = shown(case, "server_calls", "{:.0f}")
    if case.runs and "model_events" in case.runs[0].figures:
        calls += f" / {shown(case, 'model_events', '{:.0f}')}"
    opened = shown(case, "max_in_flight", "{:.0f}")
    if opened:
        opened += f" / {shown(case, 'max_queue_wait', '{:.1f}')}"
    return [case.target, case.name, case.settings_text, str(len(case.runs)), shown(case, "wall_s", "{:.1f}"),
            shown(case, "samples_per_s", "{:.2f}"), shown(case, "execs", "{:.0f}"), calls,
            shown(case, "busy_window", "{:.1f}", 100), shown(case, "busy_wall", "{:.1f}", 100), opened, goal, note]


def median_of(case: Case, key: str) -> float:
    return statistics.median(run.figures[key] for run in case.runs)


def paired(a: Case, b: Case, fn: Callable[[Run, Run], float]) -> float:
    """Median of fn over the runs of a and b made in the same repeat (same machine load)."""
    return statistics.median(fn(x, y) for x, y in zip(a.runs, b.runs))


def wall_ratio(x: Run, y: Run) -> float:
    return x.figures["wall_s"] / y.figures["wall_s"]


def print_table(rows: list[list[str]], header: str, footer: list[str]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(COLUMNS)]
    print()
    print(header)
    print()
    print("| " + " | ".join(h.ljust(w) for h, w in zip(COLUMNS, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    print()
    for line in footer:
        print(line)


# ---- the sections -----------------------------------------------------------------------

OVERHEAD_VARIANTS: list[tuple[str, Settings]] = [
    ("defaults", {}),
    ("max_connections=8", {"max_connections": 8}),
    ("max_samples=16", {"max_samples": 16}),
]
UTIL_EVAL_VARIANTS: list[tuple[str, Settings]] = [
    ("defaults", {}),
    ("max_connections=8", {"max_connections": 8}),
    ("max_connections=4", {"max_connections": 4}),
    ("max_connections=4, max_samples=8", {"max_connections": 4, "max_samples": 8}),
    ("max_connections=8, max_samples=16", {"max_connections": 8, "max_samples": 16}),
]
UTIL_SEARCH_VARIANTS: list[tuple[str, Settings]] = [
    ("defaults (fof evolve: max_tasks=all)", {}),
    ("max_connections=8, max_sandboxes=8", {"max_connections": 8, "max_sandboxes": 8}),
    ("max_connections=4", {"max_connections": 4}),
    ("max_connections=8", {"max_connections": 8}),
    ("max_sandboxes=8 (Inspect's cap: a random 0-1 s sleep before each sample's sandbox)", {"max_sandboxes": 8}),
]


def section_overhead(args: argparse.Namespace, workdir: Path) -> list[list[str]]:
    variants = OVERHEAD_VARIANTS[:2] if args.quick else OVERHEAD_VARIANTS
    n = args.overhead_problems
    cases = [Case("2 overhead", f"self_refine, {n} problems, latency 0", name,
                  lambda s=s: overhead_run(n, s, workdir)) for name, s in variants]
    run_cases(cases, args.repeats, args.budget, "overhead")
    rows = []
    for i, case in enumerate(cases):
        wall = median_of(case, "wall_s")
        goal = f"≤ 60 s: {'ok' if wall <= 60 else 'MISSED'}" if n == 164 else "≤ 60 s (at 164)"
        note = (f"{median_of(case, 'refiner_calls'):.0f} refiner calls, {median_of(case, 'execs_per_s'):.1f} execs/s"
                + (f"; wall {paired(case, cases[0], wall_ratio):.2f}× defaults" if i else ""))
        rows.append(row(case, goal, note))
    return rows


def section_utilisation(args: argparse.Namespace, workdir: Path) -> list[list[str]]:
    n, lat, par = args.util_problems, args.util_latency, args.parallel
    eval_variants = UTIL_EVAL_VARIANTS[:2] if args.quick else UTIL_EVAL_VARIANTS
    search_variants = UTIL_SEARCH_VARIANTS[:2] if args.quick else UTIL_SEARCH_VARIANTS
    eval_cases = [Case("3 utilisation", f"eval: self_refine, {n} problems; {lat:g} s, {par} slots", name,
                       lambda s=s: utilisation_eval_run(n, lat, par, s, workdir)) for name, s in eval_variants]
    gen = bred_generation(args.util_population, args.util_subset, args.util_evals, workdir)
    gen_cases = [Case("3 utilisation",
                      f"search gen: pop {args.util_population}, subset {args.util_subset}, evals {args.util_evals}; "
                      f"{lat:g} s, {par} slots", name,
                      lambda s=s: generation_run(gen, lat, par, s, cache=True, workdir=workdir))
                 for name, s in search_variants]
    run_cases(eval_cases + gen_cases, args.repeats, args.budget, "utilisation")
    rows = []
    for group in (eval_cases, gen_cases):
        for i, case in enumerate(group):
            busy = 100 * median_of(case, "busy_window")
            note = f"wall {paired(case, group[0], wall_ratio):.2f}× defaults" if i else ""
            rows.append(row(case, f"≥ 90 %: {'ok' if busy >= 90 else 'MISSED'}", note))
    return rows


def section_search(args: argparse.Namespace, workdir: Path) -> list[list[str]]:
    lat, par = args.cost_latency, args.parallel
    gen = bred_generation(args.cost_population, args.cost_subset, args.cost_evals, workdir)
    where = f"gen 2 (pop {args.cost_population}, subset {args.cost_subset}, evals {args.cost_evals}; {lat:g} s, {par} slots)"
    recommended = {"max_connections": 8}  # fof evolve's: its 8 containers are capped by fof_docker, not Inspect
    variants = [
        ("cache, concurrent", "defaults (fof evolve: max_tasks=all)", {}, True),
        ("cache, one after another", "max_tasks=1", {"max_tasks": 1}, True),
        ("cache, concurrent", "max_connections=8 (fof evolve's; containers capped at 8 by fof_docker)", recommended, True),
        ("no cache, concurrent", "defaults (max_tasks=all)", {}, False),
        ("no cache, one after another", "max_tasks=1", {"max_tasks": 1}, False),
    ]
    cases = [Case("4 search", f"{where}: {name}", text,
                  lambda s=s, c=c: generation_run(gen, lat, par, s, cache=c, workdir=workdir))
             for name, text, s, c in variants]
    run_cases(cases, args.repeats, args.budget, "search")
    cc, cs, cr, nc, ns = cases

    def saved(x: Run, y: Run) -> float:
        return 100 * (1 - x.figures["server_calls"] / y.figures["server_calls"])

    notes = [
        f"{saved_text(cc, nc, saved)} calls saved vs no cache; wall {paired(cc, nc, wall_ratio):.2f}× no cache",
        f"{saved_text(cs, ns, saved)} calls saved vs no cache; wall {paired(cs, cc, wall_ratio):.2f}× concurrent",
        f"wall {paired(cr, cc, wall_ratio):.2f}× defaults, {paired(cr, cs, wall_ratio):.2f}× one after another",
        "",
        f"wall {paired(ns, nc, wall_ratio):.2f}× concurrent",
    ]
    return [row(case, "", note) for case, note in zip(cases, notes)]


def saved_text(a: Case, b: Case, fn: Callable[[Run, Run], float]) -> str:
    return f"{paired(a, b, fn):.0f} %"


# ---- main -------------------------------------------------------------------------------


SECTIONS: dict[str, Callable[[argparse.Namespace, Path], list[list[str]]]] = {
    "overhead": section_overhead,
    "utilisation": section_utilisation,
    "search": section_search,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, 1 repeat, fewer variants (< 2 min)")
    p.add_argument("--only", default="overhead,utilisation,search", help="comma-separated sections")
    p.add_argument("--repeats", type=int, help="runs of each variant (default 3; quick 1)")
    p.add_argument("--budget", type=float, help="seconds per section after which repeats stop (default 1200)")
    p.add_argument("--parallel", type=int, default=4, help="simulated OLLAMA_NUM_PARALLEL")
    p.add_argument("--overhead-problems", type=int, help="HumanEval problems (default 164; quick 20)")
    p.add_argument("--util-problems", type=int, help="default 40; quick 8")
    p.add_argument("--util-latency", type=float, default=1.0)
    p.add_argument("--util-population", type=int, help="default 8; quick 3")
    p.add_argument("--util-subset", type=int, help="default 10; quick 4")
    p.add_argument("--util-evals", type=int, default=1)
    p.add_argument("--cost-population", type=int, help="default 6; quick 4")
    p.add_argument("--cost-subset", type=int, help="default 5; quick 3")
    p.add_argument("--cost-evals", type=int, default=2)
    p.add_argument("--cost-latency", type=float, default=0.2)
    p.add_argument("--json", help="also write every run's figures here")
    args = p.parse_args(argv)
    quick = args.quick
    defaults = {
        "repeats": (1, 3), "budget": (60.0, 1200.0), "overhead_problems": (20, 164), "util_problems": (8, 40),
        "util_population": (3, 8), "util_subset": (4, 10), "cost_population": (4, 6), "cost_subset": (3, 5),
    }
    for key, (small, full) in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, small if quick else full)
    unknown = set(args.only.split(",")) - set(SECTIONS)
    if unknown:
        p.error(f"unknown sections {sorted(unknown)}; known: {', '.join(SECTIONS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="fof-bench-"))
    os.environ["INSPECT_CACHE_DIR"] = str(workdir / "inspect-cache")  # no stale or leaked cache entries
    load_before = os.getloadavg()
    started = time.monotonic()
    rows: list[list[str]] = []
    raw: dict[str, Any] = {}
    try:
        for name in args.only.split(","):
            t0 = time.monotonic()
            rows += SECTIONS[name](args, workdir)
            raw[name] = round(time.monotonic() - t0, 1)
    except Exception:  # Inspect's excepthook shows prerequisite errors on a console display="none" hides
        traceback.print_exc()
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    loads = [run.figures["load"] for case in MEASURED for run in case.runs]
    retries = sum(run.figures["retries"] for case in MEASURED for run in case.runs)
    header = (
        f"fof-inspect harness benchmark ({'quick' if args.quick else 'full'}; up to {args.repeats} repeat(s), "
        f"variants interleaved) on {platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{time.monotonic() - started:.0f} s in all {raw}; 1-min load average {load_before[0]:.1f} at the start, "
        f"{min(loads, default=0):.1f}–{max(loads, default=0):.1f} after each run; {retries:.0f} run(s) retried"
    )
    footer = [
        "wall s: the whole eval() call (sandbox set-up and tear-down, log writing included). execs: programs run in",
        "the sandbox. model calls sent/made: requests that reached the model / calls the pipelines made (the rest",
        "were cache reads). busy % calls→: slot-time busy between the first call's start and the last call's end;",
        "busy % eval: the same over the whole wall time. open req / wait s: most requests open at the model at",
        "once / longest a request queued for a slot. Cells: median (min–max over repeats).",
    ]
    print_table(rows, header, footer)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"header": header, "args": vars(args), "columns": COLUMNS, "rows": rows,
             "runs": [{"target": c.target, "case": c.name, "settings": c.settings_text,
                       "runs": [r.figures for r in c.runs], "problems": [r.problems for r in c.runs]}
                      for c in MEASURED]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
