"""The harness's self-test: every benchmark problem passes with its own reference solution
in the Docker sandbox (164/164 HumanEval, 427/427 sanitized MBPP)."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import eval

from support.sandbox import sandbox_containers
from fof_inspect.solvers.reference import reference
from fof_inspect.tasks.humaneval import humaneval
from fof_inspect.tasks.mbpp import mbpp

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("docker_sandbox")]


def passed(task, log_dir: Path) -> tuple[int, int, list[str]]:
    [log] = eval(task, model="mockllm/model", log_dir=str(log_dir), display="none", max_samples=8)
    assert log.status == "success", log.error
    failures = [f"{s.id}: {s.scores['pass_at_1'].metadata}" for s in log.samples if s.scores["pass_at_1"].value != "C"]
    return len(log.samples) - len(failures), len(log.samples), failures


def test_humaneval_reference_164_of_164(tmp_path: Path) -> None:
    ok, total, failures = passed(humaneval(solver=reference()), tmp_path)
    assert (ok, total) == (164, 164), failures
    assert sandbox_containers() == []


def test_mbpp_reference_427_of_427(tmp_path: Path, data_dir: str) -> None:
    ok, total, failures = passed(mbpp(solver=reference(), data_dir=data_dir), tmp_path)
    assert (ok, total) == (427, 427), failures
    assert sandbox_containers() == []
