"""What grading one program costs: the old in-process verdict vs the split verdict, on the host and in Docker.

    python bench/execution.py [--rounds 3] [--with-exec]

Runs all 164 HumanEval reference solutions two ways: (1) as one script (candidate, tests,
a sentinel printed after them: the in-process verdict the grader used before split
verdicts) and (2) as the grader's command (`GRADE_COMMAND`: the tests in a checker
process, the candidate in another). Paths: (a) the script as `python3 file.py` on the
host (the paper's unsandboxed executor), (b) with --with-exec, the script through the
Docker sandbox's generic `exec` (one `docker exec` per program), (c) the script on the
sandbox's warm program server (`exec` of `SCRIPT_COMMAND`), (d) the split verdict on the
warm server (`exec` of `GRADE_COMMAND`: what the grader runs), (e) the split verdict on
the host (as Inspect's `local` sandbox runs it). Latency: each program's median over the
rounds, then the median and p90 over programs, run one at a time. Throughput: programs/s
of the median round, with 1 or 2 workers and 1 or 2 containers. Every run must pass, or
the figures are meaningless and the script says so. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from fof_inspect.datasets import humaneval_dataset
from fof_inspect.sandbox.config import SandboxConfig
from fof_inspect.sandbox.provider import FofDockerSandbox
from fof_inspect.grading.command import GRADE_COMMAND, SCRIPT_COMMAND
from fof_inspect.grading.execution import DEFAULT_TIMEOUT, request_for
from fof_inspect.grading.program import build_candidate

SENTINEL = "bench-sentinel-4b1d"
CONFIG = SandboxConfig(timeout=DEFAULT_TIMEOUT)
Job = tuple[str, str]
"""One problem: (the whole program as a script, the grader command's request)."""
Runner = Callable[[Job], Awaitable[bool]]
"""Runs one problem one way; whether it passed."""


def jobs() -> list[Job]:
    out = []
    for s in humaneval_dataset():
        code, tests = s.metadata["reference"], s.metadata["tests"]
        script = f"{build_candidate(code, s.metadata)}\n\n{tests}\n\nprint({SENTINEL!r})\n"
        out.append((script, request_for(code, s.metadata, tests, DEFAULT_TIMEOUT)))
    return out


def script_passed(returncode: int, stdout: str) -> bool:
    return returncode == 0 and SENTINEL in stdout


def split_passed(stdout: str) -> bool:
    try:
        return json.loads(stdout)["passed"] is True
    except (ValueError, KeyError, TypeError):
        return False


# ---- the ways to run a problem ---------------------------------------------------------


async def host(cmd: list[str], data: str, cwd: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(  # the interpreter itself, not a pyenv shim
        *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=cwd
    )
    out, _ = await asyncio.wait_for(proc.communicate(data.encode()), DEFAULT_TIMEOUT)
    return proc.returncode or 0, out.decode()


def host_script_runner(workdir: str) -> Runner:
    async def run(job: Job) -> bool:
        return script_passed(*await host([sys.executable, "-I", "-"], job[0], workdir))

    return run


def host_split_runner(workdir: str) -> Runner:
    async def run(job: Job) -> bool:
        return split_passed((await host([sys.executable, *GRADE_COMMAND[1:]], job[1], workdir))[1])

    return run


SLOW_COMMAND = ["/bin/sh", *SCRIPT_COMMAND[1:]]
"""The script command in a form fof_docker does not recognise: a plain `docker exec`."""


def box_runner(box: FofDockerSandbox, command: list[str]) -> Runner:
    async def run(job: Job) -> bool:
        data = job[1] if command == GRADE_COMMAND else job[0]
        r = await box.exec(command, input=data, timeout=int(DEFAULT_TIMEOUT), timeout_retry=False)
        return split_passed(r.stdout) if command == GRADE_COMMAND else script_passed(r.returncode, r.stdout)

    return run


# ---- measuring ----------------------------------------------------------------------


async def timed(run: Runner, job: Job) -> float:
    started = time.perf_counter()
    passed = await run(job)
    elapsed = time.perf_counter() - started
    if not passed:
        raise SystemExit(f"a reference program failed, figures are meaningless:\n{job[0][-2000:]}")
    return elapsed


async def latency(run: Runner, progs: list[Job], rounds: int) -> tuple[float, float]:
    """Median and p90 (ms) over programs of each program's median over rounds, one at a time."""
    per_program: list[list[float]] = [[] for _ in progs]
    for _ in range(rounds):
        for i, program in enumerate(progs):
            per_program[i].append(await timed(run, program))
    medians = sorted(statistics.median(times) * 1000 for times in per_program)
    return statistics.median(medians), medians[int(0.9 * (len(medians) - 1))]


async def throughput(runners: list[Runner], progs: list[Job], rounds: int) -> float:
    """Programs/s of the median round, with one worker per runner pulling from a shared queue."""
    rates = []
    for _ in range(rounds):
        queue = list(reversed(progs))

        async def worker(run: Runner) -> None:
            while queue:
                await timed(run, queue.pop())

        started = time.perf_counter()
        await asyncio.gather(*(worker(run) for run in runners))
        rates.append(len(progs) / (time.perf_counter() - started))
    return statistics.median(rates)


# ---- the report ---------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, nproc={os.cpu_count()}, {model}, "
        f"kernel {platform.release()}, Python {platform.python_version()}, load average {load}"
    )


async def main(rounds: int, with_exec: bool) -> None:
    progs = jobs()
    print(f"# {len(progs)} HumanEval reference programs, {rounds} rounds each")
    print(f"# before: {machine()}")
    await FofDockerSandbox.task_init("bench", CONFIG)
    envs = [await FofDockerSandbox.sample_init("bench", CONFIG, {}) for _ in range(2)]
    boxes = [e["default"].as_type(FofDockerSandbox) for e in envs]
    try:
        with tempfile.TemporaryDirectory() as workdir:
            paths = [
                ("(a) host, in-process (`python3 file.py`)", [host_script_runner(workdir) for _ in boxes]),
                ("(b) docker exec per program, in-process", [box_runner(b, SLOW_COMMAND) for b in boxes]),
                ("(c) warm server, in-process (SCRIPT_COMMAND)", [box_runner(b, SCRIPT_COMMAND) for b in boxes]),
                ("(d) warm server, split verdict (GRADE_COMMAND)", [box_runner(b, GRADE_COMMAND) for b in boxes]),
                ("(e) host, split verdict (as `local` runs it)", [host_split_runner(workdir) for _ in boxes]),
            ]
            if not with_exec:
                paths = [p for p in paths if not p[0].startswith("(b)")]
            for _, two in paths:  # warm caches and servers
                for run in two:
                    await timed(run, progs[0])
            print()
            print("| path | median ms | p90 ms | 1 worker, 1 container /s | 2 workers, 1 container /s | 2 workers, 2 containers /s |")
            print("|---|---:|---:|---:|---:|---:|")
            for name, two in paths:
                median, p90 = await latency(two[0], progs, rounds)
                single = await throughput(two[:1], progs, rounds)
                shared = await throughput([two[0], two[0]], progs, rounds)
                spread = await throughput(two, progs, rounds)
                print(f"| {name} | {median:.1f} | {p90:.1f} | {single:.0f} | {shared:.0f} | {spread:.0f} |", flush=True)
            empty = [(f"print({SENTINEL!r})", request_for("def f():\n    pass", {"entry_point": "f"}, "", 10))] * len(progs)
            floors = [f"{name[:3]} {(await latency(two[0], empty, rounds))[0]:.1f} ms" for name, two in paths]
            print()
            print("# fixed cost (median ms for an empty program / empty tests): " + ", ".join(floors))
    finally:
        for env in envs:
            await FofDockerSandbox.sample_cleanup("bench", CONFIG, env, False)
        await FofDockerSandbox.task_cleanup("bench", CONFIG, True)
    print()
    print(f"# after: {machine()}")
    print("# (a) and (e) have no containers: their 'containers' columns are 1 and 2 concurrent host processes.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--with-exec", action="store_true", help="also measure one `docker exec` per program (slow)")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.with_exec))
    sys.exit(0)
