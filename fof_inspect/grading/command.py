"""The one command the grader runs, a contract between the grader and any sandbox.

`GRADE_COMMAND` is ``python3 -I -c BOOTSTRAP``: any sandbox with Python 3.11+ on its PATH
runs it as written. Its stdin (`grade_request`) carries the candidate part, the runner's
source (runner.py, so the sandbox needs nothing of ours installed) and the tests part,
read in an order that keeps the tests out of the candidate's process (runner.py says
how). Its stdout is one JSON result from the checker. A provider may recognise this
exact command and run it another way with the same result: fof_docker runs it in its
warm program server (a fork per program, the runner already loaded).
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from fof_inspect.grading.runner import BOOTSTRAP, MAGIC, free_names, request_header

GRADE_COMMAND: list[str] = ["python3", "-I", "-c", BOOTSTRAP]

SCRIPT_COMMAND: list[str] = ["sh", "-c", "cat > solution.py && exec python3 -I solution.py"]
"""Runs a whole Python program from stdin as a script (saved as `solution.py`, so its
tracebacks show its lines). Not a verdict: the tests and sandbox checks use it to run
programs; fof_docker runs it on its warm server too."""


@cache
def runner_source() -> bytes:
    return (Path(__file__).with_name("runner.py")).read_bytes()


def grade_request(candidate: dict[str, Any], tests: dict[str, Any]) -> str:
    """The stdin of `GRADE_COMMAND` (runner.py describes it). ASCII (JSON escapes), so any
    completion text (lone surrogates, NULs) crosses intact, and logs show it as text."""
    if "names" not in tests and isinstance(tests.get("tests"), str):
        tests = {**tests, "names": list(names_of_tests(tests["tests"]))}
    runner, head, rest = runner_source(), _json(candidate) + b"\n", _json(tests)
    return (request_header(runner, head, rest) + head + runner + rest).decode("ascii")


@lru_cache(maxsize=4096)
def names_of_tests(tests: str) -> tuple[str, ...]:
    """The names `tests` takes from outside itself (runner.free_names), parsed once per test
    source: a search grades the same problems' tests thousands of times."""
    return tuple(free_names(tests))


def without_runner(request: str) -> str | None:
    """`request` with its runner part left out (its header says 0 bytes), if the runner is
    this package's own: for a sandbox that already holds it (fof_docker's server), so each
    program does not ship 35 KB of runner source. None for any other request."""
    header, newline, rest = request.partition("\n")
    fields = header.split()
    if not newline or len(fields) != 5 or fields[0] != MAGIC or not all(f.isdigit() for f in fields[1:]):
        return None
    runner_size, candidate_size = int(fields[2]), int(fields[3])
    runner = runner_source().decode("ascii")
    if runner_size != len(runner) or rest[candidate_size : candidate_size + runner_size] != runner:
        return None
    return f"{MAGIC} {fields[1]} 0 {candidate_size} {fields[4]}\n{rest[:candidate_size]}{rest[candidate_size + runner_size:]}"


def _json(part: dict[str, Any]) -> bytes:
    return json.dumps(part, ensure_ascii=True).encode("ascii")
