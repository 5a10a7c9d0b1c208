"""The grader gives the same verdict and the same feedback on every sandbox.

One corpus of passing and failing programs (every error type of the taxonomy) is graded
twice through a real Inspect eval and the `pass_at_1` scorer (a thin caller of the
grading layer's `execute`): once on `fof_docker` (its warm program server runs the
grader's command) and once on Inspect's own `local` sandbox (plain `sh` + `python3`).
Each sample's score value, error type and explanation (the feedback a refiner sees)
must be equal.

Only what legitimately differs is normalised: the directory the program file sits in
(`/tmp/run/solution.py` in the container, the local sandbox's temporary directory on the
host), and the place and line numbers of the interpreter's own files in a traceback (the
image's Debian python3 3.11.2, the host's python3 here 3.11.7). Because the paths differ
in length, the feedback's last-4000-characters window of a long traceback starts at a
different place: such feedback is compared on its common tail. Across interpreter
versions wording could differ too, which this test would show.

The `local` sandbox isolates nothing, so the corpus holds only our own harmless programs:
no realistic huge allocation (a MemoryError comes from asking for 4 EiB, which fails at
once without touching memory; the 2 GB allocation under the container's limit is
test_grader's), no fork bombs, no network. This test is about equivalence, not isolation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample

from fof_inspect.benchmark_task import sandbox_spec
from fof_inspect.datasets import humaneval_dataset
from fof_inspect.grading.execution import FEEDBACK_CHARS
from fof_inspect.scorers.pass_at_1 import pass_at_1
from support.scripted_model import fenced
from support.solvers import answer_from_metadata

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("docker_sandbox")]

TIMEOUT = 10
"""Seconds per program: generous, so that a loaded machine cannot turn a pass into a Timeout."""
TESTS = "assert f(2) == 4\nassert f(-1) == 1"

CORPUS: dict[str, tuple[str, str | None]] = {
    # name: (code, expected error type; None = passes)
    "pass": ("def f(x):\n    return x * x", None),
    "pass_loud": ("import sys\ndef f(x):\n    print('noise', file=sys.stderr)\n    return x * x", None),
    "pass_warning": ("import warnings\nwarnings.warn('careful')\ndef f(x):\n    return x * x", None),
    "pass_threads": ("import threading\nthreading.Thread(target=print, args=('late',)).start()\n"
                     "def f(x):\n    return x * x", None),
    "NameError": ("def f(x):\n    return undefined_name", "NameError"),
    "SyntaxError": ("def f(x:\n    return x * x", "SyntaxError"),
    "IndentationError": ("def f(x):\nreturn x * x", "IndentationError"),
    "TypeError": ("def f(x):\n    return x + 'a'", "TypeError"),
    "AssertionError": ("def f(x):\n    return x + x", "AssertionError"),
    "AssertionError_bare": ("def f(x):\n    assert x > 100\n    return x * x", "AssertionError"),
    "AssertionError_message": ("def f(x):\n    assert x > 100, f'too small: {x}'\n    return x", "AssertionError"),
    "IndexError": ("def f(x):\n    return [][x]", "IndexError"),
    "KeyError": ("def f(x):\n    return {}[x]", "KeyError"),
    "ValueError": ("def f(x):\n    return int('x')", "ValueError"),
    "AttributeError": ("def f(x):\n    return x.square()", "AttributeError"),
    "ModuleNotFoundError": ("import no_such_module_here\ndef f(x):\n    return x * x", "ModuleNotFoundError"),
    "ZeroDivisionError": ("def f(x):\n    return x / 0", "ZeroDivisionError"),
    "RecursionError": ("def f(x):\n    return f(x)", "RecursionError"),
    "RecursionError_mutual": ("def g(x):\n    return f(x)\ndef f(x):\n    return g(x)", "RecursionError"),
    "MemoryError": ("def f(x):\n    return bytearray(1 << 62)", "MemoryError"),
    "custom_exception": ("class Oops(Exception):\n    pass\ndef f(x):\n    raise Oops('no')", "Oops"),
    "chained_exception": ("def f(x):\n    try:\n        return {}[x]\n    except KeyError as e:\n"
                          "        raise ValueError('bad') from e", "ValueError"),
    "exception_in_thread": ("import threading\nt = threading.Thread(target=lambda: 1 / 0)\nt.start()\nt.join()\n"
                            "def f(x):\n    return x + x", "AssertionError"),
    "Timeout": ("def f(x):\n    while True:\n        pass", "Timeout"),
    "Timeout_sleep": ("import time\ndef f(x):\n    time.sleep(60)", "Timeout"),
    "EarlyExit_sys_exit": ("import sys\ndef f(x):\n    return x + x\nsys.exit(0)", "EarlyExit"),
    "EarlyExit_os_exit": ("import os\ndef f(x):\n    return x + x\nos._exit(0)", "EarlyExit"),
    "EarlyExit_in_function": ("import sys\ndef f(x):\n    sys.exit(0)", "EarlyExit"),
    "EarlyExit_status": ("import sys\ndef f(x):\n    sys.exit(3)", "EarlyExit"),
    "EarlyExit_message": ("def f(x):\n    raise SystemExit('giving up')", "EarlyExit"),
    "EarlyExit_atexit": ("import atexit, os\natexit.register(lambda: os._exit(0))\n"
                         "def f(x):\n    return x * x\nraise SystemExit(0)", "EarlyExit"),
    "Killed": ("import os, signal\ndef f(x):\n    os.kill(os.getpid(), signal.SIGKILL)", "Killed"),
    "Killed_abort": ("import os\ndef f(x):\n    os.abort()", "Killed"),
    "Killed_segfault": ("import ctypes\ndef f(x):\n    return ctypes.string_at(0)", "Killed"),
    "KeyboardInterrupt": ("def f(x):\n    raise KeyboardInterrupt", "KeyboardInterrupt"),
    "non_utf8_stderr": ("import sys\ndef f(x):\n    sys.stderr.buffer.write(b'\\xff\\xfe bad bytes\\n')\n"
                        "    sys.stderr.flush()\n    return x + x", "AssertionError"),
    "stdin_read": ("import sys\ndata = sys.stdin.read()\ndef f(x):\n    assert data == '', repr(data)\n"
                   "    return x * x", None),
    "argv_and_file": ("import os, sys\ndef f(x):\n    assert sys.argv == ['solution.py'], sys.argv\n"
                      "    assert os.path.basename(__file__) == 'solution.py', __file__\n    return x * x", None),
    "isolated_mode": ("import sys\ndef f(x):\n    assert sys.flags.isolated == 1 and sys.path[0] != ''\n"
                      "    return x * x", None),
}


def corpus_samples() -> list[Sample]:
    """The corpus on `f`, no answer at all (NoCode), and two HumanEval problems (their
    prompt's imports and helpers come first), solved right and wrong."""
    samples = [
        Sample(id=name, input="write f", metadata={"answer": fenced(code), "prefix": "", "tests": TESTS,
                                                   "entry_point": "f", "timeout": TIMEOUT,
                                                   "extraction": "as_written"})  # top-level code is the point
        for name, (code, _) in CORPUS.items()
    ]
    samples.append(Sample(id="NoCode", input="write f", metadata={
        "answer": "Sorry, I cannot help with that.", "prefix": "", "tests": TESTS, "entry_point": "f",
        "timeout": TIMEOUT}))
    for problem in list(humaneval_dataset())[:2]:
        meta = {**(problem.metadata or {}), "timeout": TIMEOUT}
        samples.append(Sample(id=f"{problem.id}/right", input="solve", metadata={**meta, "answer": fenced(meta["reference"])}))
        wrong = f"def {meta['entry_point']}(*args):\n    return None"
        samples.append(Sample(id=f"{problem.id}/wrong", input="solve", metadata={**meta, "answer": fenced(wrong)}))
    return samples


_PROGRAM_PATH = re.compile(r"(?:/[^\s\"':]+)*/solution\.py")
_STDLIB_FRAME = re.compile(r'File "[^"]*/lib/python3\.\d+/([^"]+)", line \d+')


def normalised(text: str) -> str:
    """The feedback without the program file's directory and where the interpreter's own
    files are, and a timeout's reason (fof_docker's limit is CPU time, local's wall clock):
    the only legitimate differences."""
    if text.startswith("Timeout:"):
        return "Timeout"
    return _STDLIB_FRAME.sub(r'File "<stdlib>/\1", line N', _PROGRAM_PATH.sub("solution.py", text))


def grade_on(sandbox_name: str, log_dir: Path) -> dict[str, dict[str, Any]]:
    """Each sample's verdict graded on `sandbox_name`: value, error type, explanation."""
    task = Task(
        dataset=MemoryDataset(corpus_samples()),
        solver=answer_from_metadata(),
        scorer=pass_at_1(),
        sandbox=sandbox_spec(sandbox_name, TIMEOUT),
    )
    [log] = eval(task, model="mockllm/model", log_dir=str(log_dir), display="none", max_samples=4)
    assert log.status == "success", log.error
    verdicts = {}
    for sample in log.samples or []:
        score = sample.scores["pass_at_1"]
        verdicts[str(sample.id)] = {
            "value": score.value,
            "error_type": (score.metadata or {}).get("error_type"),
            "explanation": normalised(score.explanation or ""),
            "truncated": len(score.explanation or "") >= FEEDBACK_CHARS,
        }
    return verdicts


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, Any]]]:
    return {name: grade_on(name, tmp_path_factory.mktemp(name)) for name in ("fof_docker", "local")}


EXPECTED: dict[str, str | None] = {
    **{name: error_type for name, (_, error_type) in CORPUS.items()},
    "NoCode": "NoCode",
    **{f"HumanEval/{i}/right": None for i in (0, 1)},
    **{f"HumanEval/{i}/wrong": "AssertionError" for i in (0, 1)},
}


@pytest.mark.parametrize("case", EXPECTED)
def test_fof_docker_and_local_give_the_same_verdict_and_feedback(case: str, verdicts) -> None:
    docker, local = dict(verdicts["fof_docker"][case]), dict(verdicts["local"][case])
    truncated = [docker.pop("truncated"), local.pop("truncated")]
    if any(truncated):
        tail = min(len(docker["explanation"]), len(local["explanation"]))
        docker["explanation"], local["explanation"] = docker["explanation"][-tail:], local["explanation"][-tail:]
    assert docker == local, (docker, local)
    assert docker["error_type"] == EXPECTED[case], docker
    assert docker["value"] == ("C" if EXPECTED[case] is None else "I")
