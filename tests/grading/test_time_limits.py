"""Time limits that do not depend on the machine's load: on fof_docker the grader's limit is
a CPU-time budget per process (an infinite loop still ends promptly, as a Timeout) with a
wall-clock backstop for programs that sleep or block (a Timeout too); the limit is recorded
in the score metadata. With the machine loaded at 4x its cores, the references still pass."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from inspect_ai import eval

from support.sandbox import sandbox_containers
from fof_inspect.grading.error_type import TIMEOUT
from fof_inspect.grading.execution import DEFAULT_TIMEOUT, execute
from fof_inspect.sandbox.provider import FofDockerSandbox
from fof_inspect.solvers.reference import reference
from fof_inspect.tasks.humaneval import humaneval
from fof_inspect.tasks.mbpp import mbpp
from support.sandbox import in_sandbox

pytestmark = [pytest.mark.usefixtures("docker_sandbox"), pytest.mark.docker]

METADATA = {"prefix": "", "tests": "assert f() == 1", "entry_point": "f", "timeout": 2}


def test_cpu_and_wall_limits_both_end_as_timeouts_and_are_recorded() -> None:
    programs = {
        "an infinite loop": "def f():\n    while True:\n        pass",
        "a loop that ignores SIGXCPU": (
            "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\ndef f():\n    while True:\n        pass"
        ),
        "a sleeper": "def f():\n    import time\n    time.sleep(600)",
        "a blocked reader": "def f():\n    import os\n    r, w = os.pipe()\n    os.read(r, 1)",
    }

    async def body(box: FofDockerSandbox) -> None:
        loop = asyncio.get_running_loop()
        for name, code in programs.items():
            started = loop.time()
            execution = await execute(code, METADATA, box=box)
            elapsed = loop.time() - started
            assert (execution.error_type, execution.time_limit) == (TIMEOUT, 2.0), name
            assert elapsed < 2 * box.config.max_wall_factor + 10, (name, elapsed)  # never retried
        passing = await execute("def f():\n    return 1", METADATA, box=box)
        assert passing.passed and passing.time_limit == 2.0

    in_sandbox(body)


def test_a_program_that_waits_longer_than_its_cpu_budget_passes() -> None:
    """Sleeping costs no CPU: below the wall-clock backstop a program is not timed out."""
    code = "import time\ndef f():\n    time.sleep(3)\n    return 1"

    async def body(box: FofDockerSandbox) -> None:
        assert (await execute(code, METADATA, box=box)).passed

    in_sandbox(body)


@contextmanager
def cpu_burners(count: int) -> Iterator[None]:
    """`count` host processes spinning on the CPU (our own code, no candidate's), killed after."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
        for burner in burners:
            burner.wait()


@pytest.mark.slow
def test_references_pass_without_timeouts_on_a_machine_loaded_at_4x_its_cores(tmp_path: Path, data_dir: str) -> None:
    tasks = [humaneval(solver=reference()), mbpp(solver=reference(), data_dir=data_dir)]
    with cpu_burners(4 * (os.cpu_count() or 1)):
        logs = eval(tasks, model="mockllm/model", log_dir=str(tmp_path), display="none", max_samples=8)
    assert [log.status for log in logs] == ["success", "success"], [log.error for log in logs]
    scores = [s.scores["pass_at_1"] for log in logs for s in log.samples or []]
    timeouts = [score.metadata for score in scores if score.metadata.get("error_type") == TIMEOUT]
    failures = [score.metadata for score in scores if score.value != "C"]
    assert (len(scores), timeouts, failures) == (164 + 427, [], [])
    assert {score.metadata["time_limit"] for score in scores} == {DEFAULT_TIMEOUT}
    assert sandbox_containers() == []
