"""The program that gets graded: benchmark context + candidate code + tests + sentinel.

Built the standard way so the harness makes no errors of its own: the sample's
`prefix` (HumanEval's whole prompt, with its imports and helper functions; MBPP's
`test_imports`) comes first, so a candidate that omits them still runs as the
benchmark intends. A candidate that is only a function body is placed under the
prompt's signature. The sentinel, printed after the tests, proves they ran.
"""

from __future__ import annotations

import textwrap
from typing import Any

SENTINEL_LINE = '__import__("os").write(1, b"\\n{sentinel}\\n")\n'


def build_program(code: str, metadata: dict[str, Any], tests: str, sentinel: str) -> str:
    """Assemble the graded program for one candidate `code`."""
    prefix = metadata.get("prefix") or ""
    entry_point = metadata.get("entry_point")
    if entry_point and is_body_only(code, entry_point, prefix):
        body = code if code[:1].isspace() else textwrap.indent(code, "    ")
        candidate = prefix.rstrip("\n") + "\n" + body
    else:
        candidate = prefix + "\n" + code if prefix else code
    return "\n\n".join(
        [candidate.rstrip("\n"), tests.rstrip("\n"), SENTINEL_LINE.format(sentinel=sentinel)]
    )


def is_body_only(code: str, entry_point: str, prefix: str) -> bool:
    """A completion that continues the prompt's signature rather than restating it."""
    return f"def {entry_point}(" not in code and f"def {entry_point}(" in prefix
