"""Run a candidate against tests in the sample's sandbox: the one grading function.

The executor node and the scorer both call `execute`, so the refiner's feedback and
the final verdict can never disagree about what happened. The verdict is the checker's
(runner.py): the tests run in a process of their own, and nothing the candidate prints
is read for it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from inspect_ai.util import ExecResult, SandboxEnvironment, sandbox
from pydantic import BaseModel

from fof_inspect.grading.command import GRADE_COMMAND, grade_request
from fof_inspect.grading.error_type import KILLED, MEMORY_ERROR, NO_CODE, TIMEOUT
from fof_inspect.grading.program import build_candidate

DEFAULT_TIMEOUT = 10.0
FEEDBACK_CHARS = 4000
BACKSTOP_FACTOR = 30
"""The checker's own last-resort alarm, in multiples of the limit: beyond fof_docker's, which
lets a program the machine's load keeps waiting run up to 30x its limit in wall clock."""
OOM_NOTE = "MemoryError: killed by the sandbox's memory limit"
"""What fof_docker adds to the command's stderr (which no program writes) after an OOM kill."""
VERDICT = "split"
"""How verdicts are made (score metadata `verdict`): tests in a checker process apart from the candidate."""


class Execution(BaseModel):
    """What one run of a candidate did (readable in the log and usable as feedback)."""

    passed: bool
    error_type: str | None = None
    feedback: str = ""
    """The candidate's stderr and the failure: the tests' failing line and the candidate's traceback."""
    code_hash: str = ""
    returncode: int | None = None
    time_limit: float | None = None
    """The limit the program ran under, in seconds: on fof_docker CPU time per process (with a
    wall-clock backstop of the sandbox's `wall_factor` times it), on other sandboxes wall clock."""


async def execute(
    code: str | None, metadata: dict[str, Any], tests: str | None = None, box: SandboxEnvironment | None = None
) -> Execution:
    """Grade `code` with `tests` (default: the sample's hidden tests) in `box` (default: the sample's sandbox)."""
    if not code or not code.strip():
        return Execution(passed=False, error_type=NO_CODE, feedback="No Python code was found in the answer.")
    timeout = float(metadata.get("timeout") or DEFAULT_TIMEOUT)
    code_hash = short_hash(code)
    request = request_for(code, metadata, metadata["tests"] if tests is None else tests, timeout)
    try:
        result = await run_request(box or sandbox(), request, timeout)
    except TimeoutError:
        return Execution(
            passed=False,
            error_type=TIMEOUT,
            feedback=f"Timeout: the program did not finish within {timeout:g} seconds (infinite loop or too slow).",
            code_hash=code_hash,
            time_limit=timeout,
        )
    return verdict(result, code_hash).model_copy(update={"time_limit": timeout})


def request_for(code: str, metadata: dict[str, Any], tests: str, timeout: float) -> str:
    """The grader command's stdin for one candidate and its tests."""
    entry_point = metadata.get("entry_point")
    candidate = {"candidate": build_candidate(code, metadata), "filename": "solution.py",
                 "backstop": int(BACKSTOP_FACTOR * timeout) + 10}
    return grade_request(candidate, {"prefix": metadata.get("prefix") or "", "tests": tests, "entry_point": entry_point})


def verdict(result: ExecResult[str], code_hash: str) -> Execution:
    """The checker's result as an Execution; a run without one (the checker itself was
    killed, e.g. by the memory limit) fails, typed from its exit."""
    try:
        report = json.loads(result.stdout)
        passed, error_type = report["passed"] is True, report["error_type"]
    except (ValueError, TypeError, KeyError):
        error_type = MEMORY_ERROR if OOM_NOTE in result.stderr else KILLED
        tail = result.stderr[-FEEDBACK_CHARS:].strip() or f"exit code {result.returncode}"
        return Execution(passed=False, error_type=error_type, feedback=f"{error_type}: the grader got no verdict ({tail}).",
                         code_hash=code_hash, returncode=result.returncode)
    if error_type == KILLED and OOM_NOTE in result.stderr:
        error_type = MEMORY_ERROR
    feedback = "" if passed else (str(report.get("stderr") or "") + str(report.get("feedback") or ""))[-FEEDBACK_CHARS:]
    return Execution(passed=passed, error_type=None if passed else str(error_type), feedback=feedback,
                     code_hash=code_hash, returncode=result.returncode)


async def run_request(box: SandboxEnvironment, request: str, timeout: float) -> ExecResult[str]:
    """Run the grader's command in the sample's sandbox, whichever provider it is: one
    `exec`, never retried on timeout (an infinite loop would cost several times its limit)."""
    return await box.exec(GRADE_COMMAND, input=request, timeout=int(max(1, round(timeout))), timeout_retry=False)


def short_hash(code: str) -> str:
    """The short hash the trace and the score name a version of the code by."""
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()[:12]
