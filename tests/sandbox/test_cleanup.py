"""No sandbox container outlives an eval: when it ends, fails, or is interrupted (Ctrl-C)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.util import SandboxEnvironmentSpec, sandbox

from support.sandbox import sandbox_containers
from fof_inspect.sandbox.config import SandboxConfig
from fof_inspect.scorers.pass_at_1 import pass_at_1

pytestmark = pytest.mark.usefixtures("docker_sandbox")


@solver
def failing() -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        await sandbox().exec(["true"])
        raise RuntimeError("the solver broke")

    return solve


def test_no_container_left_after_a_failed_eval(tmp_path: Path) -> None:
    task = Task(
        dataset=MemoryDataset([Sample(id=i, input="x", metadata={"tests": ""}) for i in range(3)]),
        solver=failing(),
        scorer=pass_at_1(),
        sandbox=SandboxEnvironmentSpec("fof_docker", SandboxConfig()),
    )
    [log] = eval(task, model="mockllm/model", log_dir=str(tmp_path), display="none", fail_on_error=True)
    assert log.status == "error"
    assert sandbox_containers() == []


SLOW_TASK = '''
import asyncio
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.solver import solver
from inspect_ai.util import SandboxEnvironmentSpec, sandbox
from fof_inspect.sandbox.config import SandboxConfig
from fof_inspect.scorers.pass_at_1 import pass_at_1

@solver
def slow():
    async def solve(state, generate):
        await sandbox().exec(["true"])
        await asyncio.sleep(600)
        return state
    return solve

@task
def slow_task():
    return Task(
        dataset=MemoryDataset([Sample(id=i, input="x", metadata={"tests": ""}) for i in range(4)]),
        solver=slow(), scorer=pass_at_1(),
        sandbox=SandboxEnvironmentSpec("fof_docker", SandboxConfig()),
    )
'''


def test_no_container_left_after_ctrl_c(tmp_path: Path) -> None:
    (tmp_path / "slow_task.py").write_text(SLOW_TASK)
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspect_ai", "eval", "slow_task.py", "--model", "mockllm/model",
         "--log-dir", str(tmp_path / "logs"), "--display", "plain"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while len(sandbox_containers(proc.pid)) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(sandbox_containers(proc.pid)) == 4, "the eval never started its sandboxes"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert sandbox_containers(proc.pid) == []


@solver
def runs_true() -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        result = await sandbox().exec(["true"])
        state.metadata["ran"] = result.success
        return state

    return solve


def test_without_sandbox_cleanup_more_samples_than_prestarted_containers_still_run(tmp_path: Path) -> None:
    # --no-sandbox-cleanup: Inspect never calls sample_cleanup, so no sample gives its container
    # back; without max_containers nothing waits for one, and the eval finishes
    task = Task(
        dataset=MemoryDataset([Sample(id=i, input="x", metadata={"tests": ""}) for i in range(3)]),
        solver=runs_true(),
        sandbox=SandboxEnvironmentSpec("fof_docker", SandboxConfig(prestart=1)),
    )
    try:
        started = time.monotonic()
        [log] = eval(task, model="mockllm/model", log_dir=str(tmp_path), display="none", max_samples=1,
                     sandbox_cleanup=False)
        assert log.status == "success", log.error
        assert all(s.metadata["ran"] for s in log.samples or [])
        assert time.monotonic() - started < 120
    finally:
        from fof_inspect.sandbox.containers import remove

        for container_id in sandbox_containers():
            remove(container_id)
