"""Pipeline fixtures shared by tests: a one-problem task, scripted refiners, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.util import SandboxEnvironmentSpec

from fof_inspect.sandbox.config import SandboxConfig
from fof_inspect.scorers.pass_at_1 import pass_at_1
from support.scripted_model import Script, fenced

REPO = Path(__file__).resolve().parents[2]
RIGHT = "def square(x):\n    return x * x"
WRONG = "def square(x):\n    return x + x"
BROKEN = "def square(x):\n    return x ** 3"
PROBLEM = "Write square(x) returning x squared."


def square_task(public_tests: str = "assert square(3) == 9") -> Task:
    sample = Sample(
        id="square",
        input=PROBLEM,
        metadata={
            "prefix": "",
            "entry_point": "square",
            "tests": "assert square(7) == 49\nassert square(-3) == 9",
            "public_tests": public_tests,
            "timeout": 5,
        },
    )
    return Task(
        dataset=MemoryDataset([sample]),
        scorer=pass_at_1(),
        sandbox=SandboxEnvironmentSpec("fof_docker", SandboxConfig(timeout=5)),
    )


def refiner_sequence(*codes: str):
    """The generator answers WRONG; the refiner's n-th call answers codes[n-1]."""

    def answer(kind: str, problem: str, n: int) -> str:
        if kind == "generator":
            return fenced(WRONG)
        if kind == "analyzer":
            return "ANALYSIS-7f3: it adds instead of multiplying."
        return fenced(codes[min(n, len(codes)) - 1])

    return answer


def cli(args: list[str], server_url: str, cwd: Path = REPO, timeout: int = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "OLLAMA_BASE_URL": server_url, "COLUMNS": "400"}
    return subprocess.run([sys.executable, "-m", "inspect_ai", "eval", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def humaneval_script() -> Script:
    """Right answers for the first HumanEval problems, after one wrong draft."""
    from fof_inspect.datasets import humaneval_dataset

    samples = list(humaneval_dataset())[:2]
    references = {s.metadata["prompt"]: s.metadata["reference"] for s in samples}

    def answer(kind: str, problem: str, n: int) -> str:
        if kind == "generator":
            return fenced("def nope():\n    pass")
        if kind == "analyzer":
            return "The function is missing."
        return fenced(references.get(problem, "pass"))

    return Script(list(references), answer)
