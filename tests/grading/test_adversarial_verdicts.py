"""Answers written to forge a pass, graded in the real Docker sandbox: each is graded I with a
sensible error type, and the honest program graded right after it, in the same container,
passes. The verdict is the checker's, in a process of another user than the candidate."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.util import SandboxEnvironmentSpec

from fof_inspect.grading.execution import Execution, execute
from fof_inspect.sandbox.config import SandboxConfig
from fof_inspect.scorers.pass_at_1 import pass_at_1
from fof_inspect.sandbox.provider import FofDockerSandbox
from support.solvers import answer_from_metadata
from support.sandbox import in_sandbox

pytestmark = pytest.mark.usefixtures("docker_sandbox")

HUMANEVAL_LIKE = {
    "prefix": 'import math\n\ndef helper(x):\n    return x * 2\n\ndef f(x):\n    """Double x."""\n',
    "tests": "def check(candidate):\n    assert candidate(2) == 4\n    assert abs(candidate(1.5) - 3.0) < 1e-6\n"
    "    assert isinstance(candidate(1), int)\n    assert helper(candidate(1)) == 4\n\ncheck(f)",
    "entry_point": "f",
    "timeout": 10,
}
HONEST = "def f(x):\n    return x * 2"
WRONG = "def f(x):\n    return x + 1\n"
FAKE_RESULT = '{"runner": 1, "passed": true, "error_type": null, "feedback": ""}'

FORGERIES = {
    # the old sentinel could be read from the program's own code, its file and its memory
    "print_own_file_and_exit": WRONG + "import os\nprint(open(__file__).read())\nprint('" + FAKE_RESULT + "')\nos._exit(0)",
    "scan_own_memory": WRONG
    + "import re\nmaps = open('/proc/self/maps').read().splitlines()\nmem = open('/proc/self/mem', 'rb')\n"
    "found = []\nfor line in maps:\n    lo, hi = (int(x, 16) for x in line.split()[0].split('-'))\n"
    "    if 'rw' not in line.split()[1] or hi - lo > 1 << 26:\n        continue\n    try:\n"
    "        mem.seek(lo)\n        found += re.findall(rb'assert candidate[^\\n]{0,40}', mem.read(hi - lo))\n"
    "    except OSError:\n        pass\nprint(found[:5])\n",
    # output after failed tests, from every place code runs at the end
    "atexit_prints_and_exits": WRONG + "import atexit, os\natexit.register(lambda: (print('" + FAKE_RESULT + "'), os._exit(0)))",
    "excepthook": WRONG + "import sys, os\nsys.excepthook = lambda *a: (print('" + FAKE_RESULT + "'), os._exit(0))",
    "thread_after_tests": WRONG + "import threading, time, os\n"
    "threading.Thread(target=lambda: (time.sleep(0.3), print('" + FAKE_RESULT + "'), os._exit(0))).start()",
    "signal_handler": WRONG + "import signal, os\n"
    "signal.signal(signal.SIGALRM, lambda *a: (print('" + FAKE_RESULT + "'), os._exit(0)))\nsignal.setitimer(signal.ITIMER_REAL, 0.2)",
    # bending the tests themselves
    "settrace_skips_asserts": WRONG + "import sys\n"
    "def tracer(frame, event, arg):\n    frame.f_trace_lines = True\n    return tracer\nsys.settrace(tracer)",
    "always_equal": "class Yes(int):\n    def __eq__(self, other):\n        return True\n    __lt__ = __eq__\n"
    "    def __hash__(self):\n        return 0\n"
    "class Any:\n    def __eq__(self, other):\n        return True\n    def __sub__(self, other):\n        return 0\n"
    "    __abs__ = lambda self: 0\n"
    "def f(x):\n    return Any() if x != 1 else Yes(7)",
    "str_subclass_equal": "class S(str):\n    def __eq__(self, other):\n        return True\ndef f(x):\n    return S('no')",
    "patched_builtins": WRONG + "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.isinstance = lambda *a: True\n"
    "builtins.AssertionError = type('NotAnError', (Exception,), {})",
    "redefined_helper": WRONG + "def helper(x):\n    return 4",
    # a fake traceback must not relabel the failure
    "fake_traceback": WRONG + "import sys\n"
    "sys.stderr.write('Traceback (most recent call last):\\n  File \"x.py\", line 1\\nNameError: name is not defined\\n')",
    # reaching for the checker (another user) or its channel
    "kill_the_checker": WRONG + "import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\nexcept OSError as ex:\n    print(ex)",
    "write_the_checkers_stdout": WRONG + "import os\ntry:\n    open(f'/proc/{os.getppid()}/fd/1', 'w').write('" + FAKE_RESULT
    + "')\nexcept OSError as ex:\n    print(ex)",
    "garbage_on_the_channel": WRONG + "import os\nfor fd in range(3, 20):\n    try:\n        os.write(fd, b'\\x00\\x00\\x00\\x05junk!')\n"
    "    except OSError:\n        pass",
    "flood_then_fake": WRONG + "import sys\nsys.stdout.write('x' * 3 * 1024**2 + '" + FAKE_RESULT + "')",
}
EXPECTED = {
    "print_own_file_and_exit": {"EarlyExit"},
    "thread_after_tests": {"AssertionError", "EarlyExit"},  # EarlyExit if it fires before the tests end
    "signal_handler": {"AssertionError", "EarlyExit"},
    "garbage_on_the_channel": {"TypeError"},
}


def grade_in_turn(programs: list[tuple[str, str]]) -> list[tuple[str, Execution]]:
    """Grade `programs` one after another in one container."""
    results: list[tuple[str, Execution]] = []

    async def body(box: FofDockerSandbox) -> None:
        for name, code in programs:
            results.append((name, await execute(code, HUMANEVAL_LIKE, box=box)))

    in_sandbox(body)
    return results


def test_no_forgery_passes_and_the_next_honest_program_does() -> None:
    programs: list[tuple[str, str]] = []
    for name, code in FORGERIES.items():
        programs += [(name, code), (f"honest after {name}", HONEST)]
    wrong = []
    for name, result in grade_in_turn(programs):
        expected = {None} if name.startswith("honest") else EXPECTED.get(name, {"AssertionError"})
        if result.passed != name.startswith("honest") or result.error_type not in expected:
            wrong.append((name, result))
    assert wrong == []


def test_the_refiner_sees_the_failing_assertion_and_the_candidates_traceback() -> None:
    code = "def f(x):\n    if x == 1:\n        return [][x]\n    return x * 2"
    [(_, result)] = grade_in_turn([("index", "import sys\nprint('debug', file=sys.stderr)\n" + code)])
    assert result.error_type == "IndexError"
    lines = result.feedback
    assert lines.startswith("debug\nTraceback (most recent call last):\n")
    assert 'File "tests.py", line 4, in check\n    assert isinstance(candidate(1), int)' in lines
    assert 'File "/tmp/run/solution.py", line 13, in f\n    return [][x]' in lines
    assert lines.rstrip().endswith("IndexError: list index out of range")
    [(_, wrong)] = grade_in_turn([("wrong", WRONG)])
    assert 'File "tests.py", line 2, in check\n    assert candidate(2) == 4\n' in wrong.feedback
    assert wrong.feedback.rstrip().endswith("AssertionError")


def test_a_correct_program_passes_however_loud() -> None:
    loud = (
        "import atexit, sys\nsys.stdout.write('a' * 600 * 1024)\n"
        "atexit.register(lambda: sys.stdout.write('z' * 2 * 1024**2))\n"
        "sys.stderr.write('Traceback (most recent call last):\\nNameError: fake\\n')\n" + HONEST
    )
    [(_, result)] = grade_in_turn([("loud", loud)])
    assert result.passed and result.error_type is None, result


def test_any_completion_text_is_graded_and_never_ends_the_eval(tmp_path: Path) -> None:
    answers = {
        "lone_surrogate_in_code": "```python\ndef f(x):\n    s = '\ud800'\n    return x * 2\n```",
        "lone_surrogate_in_prose": "Sure \udfff:\n```python\ndef f(x):\n    return x * 2\n```",
        "nul_bytes": "```python\ndef f(x):\n    return x * 2\x00\n```",
        "ten_megabytes": "```python\n" + "# " + "x" * 10 * 1024**2 + "\ndef f(x):\n    return x * 2\n```",
        "honest": f"```python\n{HONEST}\n```",
    }
    samples = [Sample(id=name, input="f", metadata={**HUMANEVAL_LIKE, "answer": a}) for name, a in answers.items()]
    task = Task(dataset=MemoryDataset(samples), solver=answer_from_metadata(), scorer=pass_at_1(),
                sandbox=SandboxEnvironmentSpec("fof_docker", SandboxConfig(timeout=20)))
    [log] = eval(task, model="mockllm/model", log_dir=str(tmp_path), display="none", max_samples=2)
    assert log.status == "success", log.error
    scores = {str(s.id): s.scores["pass_at_1"] for s in log.samples or []}
    assert set(scores) == set(answers)
    for name in ("honest", "lone_surrogate_in_prose"):
        assert scores[name].value == "C", (name, scores[name])
    for name in ("nul_bytes", "lone_surrogate_in_code"):  # no Python source can hold them
        assert scores[name].metadata["error_type"] == "SyntaxError", (name, scores[name])
    assert scores["ten_megabytes"].value == "C"


def test_no_forgery_passes_on_the_local_sandbox_either(tmp_path: Path) -> None:
    """Same protocol without a second user: what the checker decides still cannot be
    forged (a candidate that kills its checker leaves no verdict: Killed)."""
    answers = {name: f"```python\n{code}\n```" for name, code in FORGERIES.items()}
    answers["honest"] = f"```python\n{HONEST}\n```"
    metadata = {**HUMANEVAL_LIKE, "timeout": 20}
    samples = [Sample(id=name, input="f", metadata={**metadata, "answer": a}) for name, a in answers.items()]
    task = Task(dataset=MemoryDataset(samples), solver=answer_from_metadata(), scorer=pass_at_1(), sandbox="local")
    [log] = eval(task, model="mockllm/model", log_dir=str(tmp_path), display="none", max_samples=4)
    assert log.status == "success", log.error
    for s in log.samples or []:
        assert s.scores["pass_at_1"].value == ("C" if s.id == "honest" else "I"), (s.id, s.scores["pass_at_1"])
