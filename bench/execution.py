"""What grading one program costs: host subprocess vs the Docker sandbox's exec path vs its fast path.

    python bench/execution.py [--rounds 3]

Runs all 164 HumanEval reference programs (built with the grader's own `build_program`)
through (a) `python3 file.py` on the host (this interpreter), the paper's unsandboxed
executor, (b) the sandbox's generic `exec` path (one `docker exec` per program), and
(c) its fast path (`exec` of the grader's command, the warm program server). Latency: each program's
median over the rounds, then the median and p90 over programs, run one at a time.
Throughput: programs/s of the median round, with 1 or 2 workers and 1 or 2 containers.
Every run must pass, or the figures are meaningless and the script says so. Prints
figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
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
from fof_inspect.grading.error_type import classify
from fof_inspect.grading.command import GRADE_COMMAND
from fof_inspect.grading.execution import DEFAULT_TIMEOUT
from fof_inspect.grading.program import build_program

SENTINEL = "bench-sentinel-4b1d"
CONFIG = SandboxConfig(timeout=DEFAULT_TIMEOUT)
Runner = Callable[[str], Awaitable[tuple[int, str, str]]]
"""Runs one program; returns (returncode, stdout, stderr)."""


def programs() -> list[str]:
    return [
        build_program(s.metadata["reference"], s.metadata, s.metadata["tests"], SENTINEL)
        for s in humaneval_dataset()
    ]


# ---- the three ways to run a program ----------------------------------------------


def host_runner(workdir: str) -> Runner:
    async def run(program: str) -> tuple[int, str, str]:
        fd, path = tempfile.mkstemp(suffix=".py", dir=workdir)
        with os.fdopen(fd, "w") as f:
            f.write(program)
        proc = await asyncio.create_subprocess_exec(  # the interpreter itself, not a pyenv shim
            sys.executable, path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(proc.communicate(), DEFAULT_TIMEOUT)
        os.unlink(path)
        return proc.returncode or 0, out.decode(), err.decode()

    return run


SLOW_COMMAND = ["/bin/sh", *GRADE_COMMAND[1:]]
"""The grader's command in a form fof_docker does not recognise: a plain `docker exec`."""


def exec_runner(box: FofDockerSandbox) -> Runner:
    async def run(program: str) -> tuple[int, str, str]:
        r = await box.exec(SLOW_COMMAND, input=program, timeout=int(DEFAULT_TIMEOUT), timeout_retry=False)
        return r.returncode, r.stdout, r.stderr

    return run


def fast_runner(box: FofDockerSandbox) -> Runner:
    async def run(program: str) -> tuple[int, str, str]:
        r = await box.exec(GRADE_COMMAND, input=program, timeout=int(DEFAULT_TIMEOUT), timeout_retry=False)
        return r.returncode, r.stdout, r.stderr

    return run


# ---- measuring ----------------------------------------------------------------------


async def timed(run: Runner, program: str) -> float:
    started = time.perf_counter()
    code, out, err = await run(program)
    elapsed = time.perf_counter() - started
    if classify(code, out, err, SENTINEL) is not None:
        raise SystemExit(f"a reference program failed, figures are meaningless:\n{err[-2000:]}")
    return elapsed


async def latency(run: Runner, progs: list[str], rounds: int) -> tuple[float, float]:
    """Median and p90 (ms) over programs of each program's median over rounds, one at a time."""
    per_program: list[list[float]] = [[] for _ in progs]
    for _ in range(rounds):
        for i, program in enumerate(progs):
            per_program[i].append(await timed(run, program))
    medians = sorted(statistics.median(times) * 1000 for times in per_program)
    return statistics.median(medians), medians[int(0.9 * (len(medians) - 1))]


async def throughput(runners: list[Runner], progs: list[str], rounds: int) -> float:
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


async def main(rounds: int) -> None:
    progs = programs()
    print(f"# {len(progs)} HumanEval reference programs, {rounds} rounds each")
    print(f"# before: {machine()}")
    await FofDockerSandbox.task_init("bench", CONFIG)
    envs = [await FofDockerSandbox.sample_init("bench", CONFIG, {}) for _ in range(2)]
    boxes = [e["default"].as_type(FofDockerSandbox) for e in envs]
    try:
        with tempfile.TemporaryDirectory() as workdir:
            host = [host_runner(workdir), host_runner(workdir)]
            slow = [exec_runner(box) for box in boxes]
            fast = [fast_runner(box) for box in boxes]
            for run in (host[0], slow[0], slow[1], fast[0], fast[1]):  # warm caches and servers
                await timed(run, progs[0])
            rows = [
                ("(a) host subprocess `python3 file.py`", host[0], [host[0]], host),
                ("(b) docker exec per program (exec)", slow[0], [slow[0]], slow),
                ("(c) warm program server (exec of GRADE_COMMAND)", fast[0], [fast[0]], fast),
            ]
            print()
            print("| path | median ms | p90 ms | 1 worker, 1 container /s | 2 workers, 1 container /s | 2 workers, 2 containers /s |")
            print("|---|---:|---:|---:|---:|---:|")
            for name, run, one, two in rows:
                median, p90 = await latency(run, progs, rounds)
                single = await throughput(one, progs, rounds)
                shared = await throughput([one[0], one[0]], progs, rounds)
                spread = await throughput(two, progs, rounds)
                print(f"| {name} | {median:.1f} | {p90:.1f} | {single:.0f} | {shared:.0f} | {spread:.0f} |", flush=True)
            empty = [f"print({SENTINEL!r})"] * len(progs)
            floors = [f"{name[:3]} {(await latency(run, empty, rounds))[0]:.1f} ms" for name, run, _, _ in rows]
            print()
            print("# fixed cost (median ms for a program that only prints the sentinel): " + ", ".join(floors))
    finally:
        for env in envs:
            await FofDockerSandbox.sample_cleanup("bench", CONFIG, env, False)
        await FofDockerSandbox.task_cleanup("bench", CONFIG, True)
    print()
    print(f"# after: {machine()}")
    print("# (a) has no containers: its 'containers' columns are 1 and 2 concurrent host processes.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args().rounds))
    sys.exit(0)
