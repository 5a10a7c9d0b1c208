"""The grader as it was before split verdicts (main at 7fbb121), kept as the oracle the
honest corpus is compared with: the whole program (candidate, tests, a random sentinel
printed after them) run as one script, the verdict read from its output.

Test code only: its verdicts are forgeable (that is why they were replaced)."""

from __future__ import annotations

import secrets
from typing import Any

from inspect_ai.util import SandboxEnvironment

from fof_inspect.grading.command import SCRIPT_COMMAND
from fof_inspect.grading.program import build_candidate
from fof_inspect.solvers.oracle import exception_class  # the same reading of a traceback's text

SENTINEL_LINE = '__import__("os").write(1, b"\\n{sentinel}\\n")\n'


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
