"""The one command the grader runs, a contract between the grader and any sandbox.

`GRADE_COMMAND` is ``python3 -I -c BOOTSTRAP``: any sandbox with Python 3.11+ on its PATH
runs it as written. Its stdin is a request of three frames, each an 8-byte big-endian
length and its bytes (`grade_request`): the runner's source (runner.py, so the sandbox
needs nothing of ours installed), the candidate part and the tests part, read by the
runner one at a time (runner.py says why). Its stdout is one JSON result from the
checker. A provider may recognise this exact command and run it another way with the
same result: fof_docker runs it in its warm program server (a fork per program).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

BOOTSTRAP = (
    "import os\n"
    "def _read(n):\n"
    "    data = b''\n"
    "    while len(data) < n:\n"
    "        chunk = os.read(0, n - len(data))\n"
    "        if not chunk:\n"
    "            raise SystemExit('fof grader: the request ended early')\n"
    "        data += chunk\n"
    "    return data\n"
    "_runner = {'__name__': 'fof_runner'}\n"
    "exec(compile(_read(int.from_bytes(_read(8), 'big')), 'fof_runner.py', 'exec'), _runner)\n"
    "_runner['main'](globals().get('ISOLATION'))\n"
)
"""Reads the runner from stdin and runs it; a provider that runs it in-process may bind
`ISOLATION` (hooks that isolate the candidate and the checker, see runner.py)."""

GRADE_COMMAND: list[str] = ["python3", "-I", "-c", BOOTSTRAP]

SCRIPT_COMMAND: list[str] = ["sh", "-c", "cat > solution.py && exec python3 -I solution.py"]
"""Runs a whole Python program from stdin as a script (saved as `solution.py`, so its
tracebacks show its lines). Not a verdict: the tests and sandbox checks use it to run
programs; fof_docker runs it on its warm server too."""


@cache
def runner_source() -> bytes:
    return (Path(__file__).with_name("runner.py")).read_bytes()


def frame(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def grade_request(candidate: dict[str, Any], tests: dict[str, Any]) -> bytes:
    """The stdin of `GRADE_COMMAND`: runner, candidate part, tests part.

    JSON with ASCII escapes, so any completion text (lone surrogates, NULs) crosses intact."""
    return b"".join(frame(part) for part in (runner_source(), _json(candidate), _json(tests)))


def _json(part: dict[str, Any]) -> bytes:
    return json.dumps(part, ensure_ascii=True).encode("ascii")
