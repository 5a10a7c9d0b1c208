"""The graded program's two halves: the candidate's module and the tests' context.

Built the standard way so the harness makes no errors of its own: the sample's
`prefix` (HumanEval's whole prompt, with its imports and helper functions; MBPP's
`test_imports`) comes first in the candidate's module, so a candidate that omits them
still runs as the benchmark intends, and it is run again, trusted, in the checker
before the tests, so the tests' helpers are the benchmark's and not the candidate's.
A candidate that is only a function body is placed under the prompt's signature.
"""

from __future__ import annotations

import textwrap
from typing import Any


def build_candidate(code: str, metadata: dict[str, Any]) -> str:
    """The candidate's module source for one candidate `code`."""
    prefix = metadata.get("prefix") or ""
    entry_point = metadata.get("entry_point")
    if entry_point and is_body_only(code, entry_point, prefix):
        body = code if code[:1].isspace() else textwrap.indent(code, "    ")
        return prefix.rstrip("\n") + "\n" + body
    return prefix + "\n" + code if prefix else code


def is_body_only(code: str, entry_point: str, prefix: str) -> bool:
    """A completion that continues the prompt's signature rather than restating it."""
    return f"def {entry_point}(" not in code and f"def {entry_point}(" in prefix
