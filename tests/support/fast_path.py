"""Programs and calls shared by the fast-path tests: the warm server's script command."""

from __future__ import annotations

from fof_inspect.grading.command import SCRIPT_COMMAND
from fof_inspect.sandbox.provider import FofDockerSandbox
from support.legacy_grader import classify

SENTINEL = "fast-path-sentinel"
PASSING = f"def f():\n    return 1\n\nassert f() == 1\nprint({SENTINEL!r})\n"
NOBODY_PROCESSES = (
    "import os\nprint(sorted(open(f'/proc/{p}/cmdline').read() for p in os.listdir('/proc') if p.isdigit()"
    " and int(p) != os.getpid() and open(f'/proc/{p}/status').read().split('Uid:')[1].split()[0] == '65534'))"
)


SLOW_COMMAND = ["/bin/sh", *SCRIPT_COMMAND[1:]]
"""The same command, not recognised as the grader's: it takes the supervisor's path."""


async def run_fast(box: FofDockerSandbox, program: str, timeout: int | None = None):
    """A script, as the tests send it: the warm server runs it."""
    return await box.exec(SCRIPT_COMMAND, input=program, timeout=timeout)


def passes(stdout: str, stderr: str, returncode: int) -> bool:
    return classify(returncode, stdout, stderr, SENTINEL) is None
