"""Sanitized MBPP (427 problems; `-T split=test` for the conventional 257) graded in the sandbox.

    FOF_DATA_DIR=../shared/data inspect eval tasks/mbpp.py --model ollama/llama3.2:3b
"""

from inspect_ai import Task, task
from inspect_ai.solver import Solver

import fof_inspect.solvers  # noqa: F401  (registers the solvers for --solver)
from fof_inspect.benchmark_task import benchmark_task
from fof_inspect.datasets import mbpp_dataset
from fof_inspect.grading.execution import DEFAULT_TIMEOUT
from fof_inspect.grading.extract import DEFAULT_MODE


@task
def mbpp(
    solver: Solver | None = None,
    split: str = "all",
    data_dir: str | None = None,
    sandbox: str = "fof_docker",
    timeout: float = DEFAULT_TIMEOUT,
    extraction: str = DEFAULT_MODE,
) -> Task:
    """`-T data_dir=` (else $FOF_DATA_DIR) holds mbpp/sanitized-mbpp.json; `-T split=test` for 257;
    `-T extraction=as_written` grades answers as written instead of sanitized."""
    return benchmark_task(mbpp_dataset(data_dir=data_dir, split=split), solver, sandbox, timeout, extraction)
