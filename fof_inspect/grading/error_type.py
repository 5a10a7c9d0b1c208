"""The error taxonomy: what kind of failure an execution was.

Every failure gets a type: the class of the exception that ended the program
(a bare `assert` is AssertionError), `Timeout`, `NoCode` (nothing extractable),
`Killed` (ended by a signal), or `EarlyExit` (the program ended before its tests
finished, e.g. `sys.exit(0)` at top level) - which is never a pass.
"""

from __future__ import annotations

import re

TIMEOUT = "Timeout"
NO_CODE = "NoCode"
EARLY_EXIT = "EarlyExit"
KILLED = "Killed"

_EXCEPTION_LINE = re.compile(r"^(?P<name>[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)(?::.*)?$")
_TRACE_MARKERS = ("Traceback (most recent call last):", '  File "')


def classify(returncode: int, stdout: str, stderr: str, sentinel: str) -> str | None:
    """None for a pass (clean exit after the sentinel), else the failure's type."""
    if returncode == 0 and sentinel in stdout:
        return None
    exception = exception_class(stderr)
    if exception:
        return exception
    if returncode < 0 or returncode >= 128:
        return KILLED
    return EARLY_EXIT


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
