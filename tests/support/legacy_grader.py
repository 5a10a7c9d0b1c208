"""The grader as it was before split verdicts (main at 7fbb121), kept as the oracle the
honest corpus is compared with: the whole program (candidate, tests, a random sentinel
printed after them) run as one script, the verdict read from its output.

Test code only: its verdicts are forgeable (that is why they were replaced)."""

from __future__ import annotations

import re
import secrets
from typing import Any

from inspect_ai.util import SandboxEnvironment

from fof_inspect.grading.command import SCRIPT_COMMAND
from fof_inspect.grading.program import build_candidate

SENTINEL_LINE = '__import__("os").write(1, b"\\n{sentinel}\\n")\n'
_EXCEPTION_LINE = re.compile(r"^(?P<name>[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)(?::.*)?$")
_TRACE_MARKERS = ("Traceback (most recent call last):", '  File "')


def build_program(code: str, metadata: dict[str, Any], tests: str, sentinel: str) -> str:
    return "\n\n".join(
        [build_candidate(code, metadata).rstrip("\n"), tests.rstrip("\n"), SENTINEL_LINE.format(sentinel=sentinel)]
    )


def classify(returncode: int, stdout: str, stderr: str, sentinel: str) -> str | None:
    """None for a pass (clean exit after the sentinel), else the failure's type."""
    if returncode == 0 and sentinel in stdout:
        return None
    exception = exception_class(stderr)
    if exception:
        return exception
    if returncode < 0 or returncode >= 128:
        return "Killed"
    return "EarlyExit"


def exception_class(stderr: str) -> str | None:
    """The class name of the last uncaught exception in a Python traceback, if any."""
    if not any(marker in stderr for marker in _TRACE_MARKERS):
        return None
    for line in reversed(stderr.splitlines()):
        if not line or line[0].isspace():
            continue
        match = _EXCEPTION_LINE.match(line)
        if match:
            name = match.group("name").rsplit(".", 1)[-1]
            if name[0].isupper():
                return name
    return None


async def legacy_verdict(box: SandboxEnvironment, code: str, metadata: dict[str, Any], timeout: int = 5) -> str | None:
    """The old grader's error type for `code` (None: passed) in sandbox `box`."""
    sentinel = secrets.token_hex(16)
    program = build_program(code, metadata, metadata["tests"], sentinel)
    try:
        r = await box.exec(SCRIPT_COMMAND, input=program, timeout=timeout, timeout_retry=False)
    except TimeoutError:
        return "Timeout"
    if "MemoryError: killed by the sandbox's memory limit" in r.stderr and r.returncode < 0:
        return "MemoryError"
    return classify(r.returncode, r.stdout, r.stderr, sentinel)
