"""The error taxonomy: what kind of failure an execution was.

Every failure gets a type, decided by the grading runner (runner.py) from what happened,
never from text the program printed: the class of the exception that ended the tests
(raised by them, e.g. AssertionError from a bare `assert`, or by the candidate, e.g.
NameError), `Timeout`, `NoCode` (nothing extractable), `Killed` (the candidate ended by a
signal), `MemoryError` (also for a kill by the sandbox's memory limit), or `EarlyExit` (the
candidate ended before its tests finished, e.g. `sys.exit(0)` at top level) - never a pass.
"""

from __future__ import annotations

TIMEOUT = "Timeout"
NO_CODE = "NoCode"
EARLY_EXIT = "EarlyExit"
KILLED = "Killed"
MEMORY_ERROR = "MemoryError"
