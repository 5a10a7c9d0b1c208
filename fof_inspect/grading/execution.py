"""Run a candidate against tests in the sample's sandbox: the one grading function.

The executor node and the scorer both call `execute`, so the refiner's feedback and
the final verdict can never disagree about what happened.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from inspect_ai.util import ExecResult, sandbox
from pydantic import BaseModel

from fof_inspect.grading.command import GRADE_COMMAND
from fof_inspect.grading.error_type import NO_CODE, TIMEOUT, classify
from fof_inspect.grading.program import build_program

DEFAULT_TIMEOUT = 10.0
FEEDBACK_CHARS = 4000


class Execution(BaseModel):
    """What one run of a candidate did (readable in the log and usable as feedback)."""

    passed: bool
    error_type: str | None = None
    feedback: str = ""
    """The traceback (stderr tail) or a sentence saying what went wrong."""
    code_hash: str = ""
    returncode: int | None = None


async def execute(code: str | None, metadata: dict[str, Any], tests: str | None = None) -> Execution:
    """Grade `code` with `tests` (default: the sample's hidden tests)."""
    if not code or not code.strip():
        return Execution(passed=False, error_type=NO_CODE, feedback="No Python code was found in the answer.")
    sentinel = secrets.token_hex(16)
    program = build_program(code, metadata, metadata["tests"] if tests is None else tests, sentinel)
    timeout = float(metadata.get("timeout") or DEFAULT_TIMEOUT)
    hashed = code_hash(code)
    try:
        result = await run_program(program, timeout)
    except TimeoutError:
        return Execution(
            passed=False,
            error_type=TIMEOUT,
            feedback=f"Timeout: the program did not finish within {timeout:g} seconds (infinite loop or too slow).",
            code_hash=hashed,
        )
    error_type = classify(result.returncode, result.stdout, result.stderr, sentinel)
    feedback = result.stderr[-FEEDBACK_CHARS:]
    if error_type and not feedback.strip():
        feedback = f"{error_type}: the program ended (exit code {result.returncode}) before its tests finished."
    return Execution(
        passed=error_type is None,
        error_type=error_type,
        feedback=feedback,
        code_hash=hashed,
        returncode=result.returncode,
    )


def code_hash(code: str) -> str:
    """The short hash the trace and the score name a version of the code by."""
    return hashlib.sha256(code.encode()).hexdigest()[:12]


async def run_program(program: str, timeout: float) -> ExecResult[str]:
    """Run `program` in the sample's sandbox, whichever provider it is: one `exec` of
    the grader's command, never retried on timeout (an infinite loop would cost
    several times its limit)."""
    return await sandbox().exec(
        GRADE_COMMAND, input=program, timeout=int(max(1, round(timeout))), timeout_retry=False
    )
