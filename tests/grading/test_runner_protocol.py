"""The grading runner's protocol, run as the grader's command on the host (trusted programs
only: this tests what crosses between checker and candidate, not isolation): what the
benchmarks' tests need works, and nothing but builtin data decides a comparison."""

from __future__ import annotations

import json
import subprocess

import pytest

from fof_inspect.grading.command import GRADE_COMMAND
from fof_inspect.grading.execution import request_for


def grade(code: str, tests: str, prefix: str = "") -> dict:
    request = request_for(code, {"prefix": prefix, "entry_point": "f"}, tests, 10)
    done = subprocess.run(GRADE_COMMAND, input=request.encode(), capture_output=True, timeout=60, cwd="/tmp")
    return json.loads(done.stdout)


CASES = {
    "callable_from_the_tests": ("def f(g, xs):\n    return [g(x) for x in xs]", "assert f(lambda x: x * 3, [1, 2]) == [3, 6]"),
    "builtin_callable": ("def f(xs, key):\n    return sorted(xs, key=key)", "assert f(['bb', 'a'], len) == ['a', 'bb']"),
    "iterator_from_the_tests": ("def f(it):\n    return sum(it)", "assert f(iter([1, 2, 3])) == 6"),
    "candidate_class_by_handle": (
        "class Node:\n    def __init__(self, v, nxt=None):\n        self.v, self.nxt = v, nxt\n"
        "def f(node):\n    return 0 if node is None else node.v + f(node.nxt)",
        "head = Node(1, Node(2))\nassert f(head) == 3\nhead.v = 5\nassert head.v == 5 and f(head) == 7",
    ),
    "keyword_arguments": ("def f(a, *, b=1):\n    return a - b", "assert f(5, b=2) == 3"),
    "exception_args_survive": ("def f(d):\n    return d['missing']",
                               "try:\n    f({})\nexcept KeyError as ex:\n    assert ex.args == ('missing',)"),
    "nested_data": ("def f():\n    return {(1, 2): [{3}, frozenset({4})], 'x': (b'y', bytearray(b'z'), 2j, float('inf'))}",
                    "assert f() == {(1, 2): [{3}, frozenset({4})], 'x': (b'y', bytearray(b'z'), 2j, float('inf'))}"),
    "nan_is_not_equal": ("def f():\n    return float('nan')", "import math\nassert math.isnan(f())"),
}


@pytest.mark.parametrize("name", CASES)
def test_what_the_benchmarks_tests_need_crosses(name: str) -> None:
    code, tests = CASES[name]
    result = grade(code, tests)
    assert result["passed"], result


def test_a_remote_object_is_compared_by_identity_only() -> None:
    result = grade("class Yes:\n    def __eq__(self, o):\n        return True\n    __hash__ = object.__hash__\n"
                   "def f():\n    return Yes()", "x = f()\nassert x == x\nassert not (x == 1)\nassert x != 1")
    assert result["passed"], result


def test_a_failure_inside_a_callback_reaches_the_candidate_as_its_exception() -> None:
    result = grade("def f(g):\n    try:\n        g()\n    except ZeroDivisionError:\n        return 'caught'",
                   "assert f(lambda: 1 / 0) == 'caught'")
    assert result["passed"], result


def test_the_candidates_own_output_is_kept_apart_from_the_verdict() -> None:
    result = grade("import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)\ndef f():\n    return 2",
                   "assert f() == 1")
    assert (result["passed"], result["error_type"]) == (False, "AssertionError")
    assert result["stdout"] == "to stdout\n" and result["stderr"] == "to stderr\n"


def test_a_candidate_cannot_bind_the_tests_other_names_to_its_own_objects() -> None:
    """`math` used by the tests but imported only by the candidate is the real module, and
    lowercase names other than the entry point are never bound to the candidate's objects."""
    result = grade("class Fake:\n    def isclose(self, *a, **k):\n        return True\nmath = Fake()\n"
                   "def helper(x):\n    return True\ndef f(x):\n    return x + 1",
                   "assert math.isclose(f(1), 1)")
    assert (result["passed"], result["error_type"]) == (False, "NameError"), result
    result = grade("import math\ndef f(x):\n    return x + 1", "assert math.isclose(f(1), 1)")
    assert (result["passed"], result["error_type"]) == (False, "AssertionError"), result
