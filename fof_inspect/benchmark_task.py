"""What the HumanEval and MBPP tasks share: scorer, sandbox choice and solo default."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from inspect_ai import Task
from inspect_ai.dataset import Dataset
from inspect_ai.model import GenerateConfig
from inspect_ai.solver import Solver, generate
from inspect_ai.util import SandboxEnvironmentSpec

from fof_inspect.compat import PrerequisiteError
from fof_inspect.preflight import eval_models, preflight
from fof_inspect.sandbox.config import SandboxConfig
from fof_inspect.sandbox.provider import FofDockerSandbox  # noqa: F401  (registers fof_docker)
from fof_inspect.grading.execution import DEFAULT_TIMEOUT
from fof_inspect.grading.extract import DEFAULT_MODE, check_mode
from fof_inspect.scorers.pass_at_1 import pass_at_1

logger = logging.getLogger(__name__)

MAX_CONNECTIONS = 8

NO_ISOLATION_WARNING = (
    "WARNING: sandbox=local - generated code runs directly on this machine with NO isolation "
    "(no container, no memory/process limits, network open). Use it only for trusted code."
)


def benchmark_task(
    dataset: Dataset,
    solver: Solver | None = None,
    sandbox: str = "fof_docker",
    timeout: float = DEFAULT_TIMEOUT,
    extraction: str = DEFAULT_MODE,
    sandbox_config: str | None = None,
    max_containers: int | None = None,
) -> Task:
    """A benchmark task graded by pass@1 in a sandbox, solved by one generation by default.

    Inspect builds the task once it knows the eval's models, so the preflight here covers
    every solver, plain `generate()` included: `--model` and every `--model-role` model.
    `extraction` (`sanitize` or `as_written`) is how code is taken from every answer
    (fof_inspect/grading/extract.py); each sample's metadata carries it to every node.
    """
    mode = check_mode(extraction)
    preflight(eval_models())
    for sample in dataset:
        sample.metadata = {**(sample.metadata or {}), "timeout": timeout, "extraction": mode}
    return Task(
        dataset=dataset,
        solver=solver or generate(),
        scorer=pass_at_1(),
        sandbox=sandbox_spec(sandbox, timeout, sandbox_config, prestart=min(len(dataset), MAX_CONNECTIONS),
                             max_containers=max_containers),
        # about 2x OLLAMA_NUM_PARALLEL (4) keeps Ollama's slots busy without a long queue
        # there (bench/harness.py); --max-connections overrides it
        config=GenerateConfig(max_connections=MAX_CONNECTIONS),
    )


def sandbox_spec(
    name: str, timeout: float, config: str | None = None, prestart: int = 0, max_containers: int | None = None
) -> SandboxEnvironmentSpec:
    """`fof_docker` (default, hardened), `local` (no isolation, said loudly) or any other
    Inspect provider (`docker`, `k8s`, ...) with its own config file (a compose file, Helm
    values), given relative to the working directory.

    `prestart`: containers fof_docker starts before the first sample (as many as run at once);
    `max_containers`: fof_docker's cap on containers in use at once (SandboxConfig)."""
    if name == "fof_docker":
        if config:
            raise PrerequisiteError("fof_docker takes no -T sandbox_config= file (its limits: -T timeout=, SandboxConfig)")
        limits = SandboxConfig(timeout=timeout, max_containers=max_containers)
        prestart = min(prestart, FofDockerSandbox.container_limit(limits))
        return SandboxEnvironmentSpec("fof_docker", limits.model_copy(update={"prestart": prestart}))
    if name == "local":
        print(NO_ISOLATION_WARNING, file=sys.stderr)
        logger.warning(NO_ISOLATION_WARNING)
    # Inspect reads a relative config path from the task file's folder: make it the user's
    return SandboxEnvironmentSpec(name, str(Path(config).resolve()) if config else None)
