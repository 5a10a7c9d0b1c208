"""The grader end to end: programs written to fail in one way each, graded in the real
Docker sandbox through an Inspect eval, get the right error type (and abuse never passes)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.util import SandboxEnvironmentSpec

from support.sandbox import sandbox_containers
from support.solvers import answer_from_metadata
from fof_inspect.sandbox.config import SandboxConfig
from fof_inspect.scorers.pass_at_1 import pass_at_1
from fof_inspect.grading.program import build_candidate

pytestmark = pytest.mark.usefixtures("docker_sandbox")

TIMEOUT = 3
TESTS = "assert f() == 1"


def fenced(code: str) -> str:
    return f"Here is my solution:\n```python\n{code}\n```\nIt works."


def grade(cases: dict[str, str], log_dir: Path, epochs: int = 1) -> dict[str, dict]:
    """Grade each scripted answer (tests: `assert f() == 1`); return score per case.

    As written (`extraction: as_written`): the abuse here is top-level code, which the
    default sanitize extraction would drop before it ever reached the sandbox."""
    samples = [
        Sample(
            id=name,
            input="write f",
            metadata={
                "answer": answer,
                "prefix": "",
                "tests": TESTS,
                "entry_point": "f",
                "timeout": TIMEOUT,
                "extraction": "as_written",
            },
        )
        for name, answer in cases.items()
    ]
    task = Task(
        dataset=MemoryDataset(samples),
        solver=answer_from_metadata(),
        scorer=pass_at_1(),
        sandbox=SandboxEnvironmentSpec("fof_docker", SandboxConfig(timeout=TIMEOUT)),
        epochs=epochs,
    )
    [log] = eval(task, model="mockllm/model", log_dir=str(log_dir), display="none", max_samples=4)
    assert log.status == "success", log.error
    scores = {}
    for s in log.samples or []:
        score = s.scores["pass_at_1"]
        scores[str(s.id)] = {"value": score.value, **(score.metadata or {}), "explanation": score.explanation}
    scores["_metrics"] = {k: m.value for result in log.results.scores for k, m in result.metrics.items()}
    return scores


ERROR_CASES = {
    "pass": ("def f():\n    return 1", None),
    "NameError": ("def f():\n    return undefined_name", "NameError"),
    "SyntaxError": ("def f(:\n    return 1", "SyntaxError"),
    "TypeError": ("def f():\n    return 1 + 'a'", "TypeError"),
    "AssertionError": ("def f():\n    return 2", "AssertionError"),
    "IndexError": ("def f():\n    return [][0]", "IndexError"),
    "ZeroDivisionError": ("def f():\n    return 1 / 0", "ZeroDivisionError"),
    "RecursionError": ("def f():\n    return f()", "RecursionError"),
    "Timeout": ("def f():\n    while True:\n        pass", "Timeout"),
    "sys_exit": ("import sys\ndef f():\n    return 2\nsys.exit(0)", "EarlyExit"),
    "os_exit": ("import os\ndef f():\n    return 2\nos._exit(0)", "EarlyExit"),
    "exit_in_function": ("import sys\ndef f():\n    sys.exit(0)", "EarlyExit"),
    "MemoryError": ("x = bytearray(2 * 1024**3)\ndef f():\n    return 1", "MemoryError"),
}


def test_every_error_class_is_produced_and_typed(tmp_path: Path) -> None:
    cases = {name: fenced(code) for name, (code, _) in ERROR_CASES.items()}
    cases["NoCode"] = "I am sorry, but I cannot write that function."
    scores = grade(cases, tmp_path)
    for name, (_, expected) in ERROR_CASES.items():
        assert scores[name]["error_type"] == expected, (name, scores[name])
        assert scores[name]["value"] == ("C" if expected is None else "I"), name
    assert scores["NoCode"]["error_type"] == "NoCode"
    assert "name 'undefined_name' is not defined" in scores["NameError"]["explanation"]
    assert scores["_metrics"]["accuracy"] == pytest.approx(1 / 14)
    assert scores["_metrics"]["EarlyExit"] == 3 and scores["_metrics"]["NameError"] == 1


def test_error_counts_stay_per_run_across_epochs(tmp_path: Path) -> None:
    cases = {"pass": fenced("def f():\n    return 1"), "NameError": fenced("def f():\n    return nope")}
    metrics = grade(cases, tmp_path, epochs=3)["_metrics"]
    assert metrics["NameError"] == 1 and metrics["accuracy"] == pytest.approx(0.5)


def test_abuse_is_graded_correctly_and_leaves_the_sandbox_usable(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret.txt"
    secret.write_text("on the host only")
    listener = socket.create_server(("127.0.0.1", 0))  # reachable from the host, not the sandbox
    port = listener.getsockname()[1]
    ok = "def f():\n    return 1\n"
    cases = {
        "infinite_loop": "while True:\n    pass\n" + ok,
        "fork_bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n" + ok,
        "allocate_2gb": "x = bytearray(2 * 1024**3)\n" + ok,
        "write_1gb": "f = open('/tmp/big', 'wb')\nfor _ in range(1024):\n    f.write(b'x' * 1024**2)\n" + ok,
        "output_100mb": "import sys\nsys.stdout.write('x' * 100 * 1024**2)\n" + ok,
        "network": f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n" + ok,
        "host_file": f"open({str(secret)!r}).read()\n" + ok,
        "sys_exit": "import sys\n" + ok + "sys.exit(0)\n",
        "os_exit": "import os\n" + ok + "os._exit(0)\n",
        "kill_everything": "import os, signal\nos.kill(-1, signal.SIGKILL)\nfor p in os.listdir('/proc'):\n    if p.isdigit() and int(p) != os.getpid():\n        try:\n            os.kill(int(p), 9)\n        except OSError:\n            pass\n" + ok,
        "kill_itself": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n" + ok,
    }
    expected = {
        "infinite_loop": "Timeout",
        "fork_bomb": "Timeout",
        "allocate_2gb": "MemoryError",
        "write_1gb": "OSError",
        "output_100mb": None,  # a correct program that is merely loud still passes
        "network": "ConnectionRefusedError",
        "host_file": "FileNotFoundError",
        "sys_exit": "EarlyExit",
        "os_exit": "EarlyExit",
        "kill_everything": None,  # it can only kill itself and its children, not the harness
        "kill_itself": "Killed",
    }
    answers = {name: fenced(code) for name, code in cases.items()}
    for i in range(4):  # after all that, ordinary programs still run (pooled containers reused)
        answers[f"after_{i}"] = fenced(ok)
    try:
        scores = grade(answers, tmp_path)
    finally:
        listener.close()
    for name, error_type in expected.items():
        assert scores[name]["error_type"] == error_type, (name, scores[name])
    for i in range(4):
        assert scores[f"after_{i}"]["value"] == "C"
    assert sandbox_containers() == []


def test_candidate_module_keeps_the_prompts_imports_and_helpers() -> None:
    prompt = 'import math\n\ndef helper(x):\n    return x * 2\n\ndef f(x):\n    """Double the square root."""\n'
    metadata = {"prefix": prompt, "entry_point": "f"}
    full = build_candidate("def f(x):\n    return helper(math.sqrt(x))", metadata)
    assert full.startswith(prompt) and full.endswith("return helper(math.sqrt(x))")
    body = build_candidate("    return helper(math.sqrt(x))", metadata)
    assert prompt.rstrip() + "\n    return helper(math.sqrt(x))" in body
    unindented = build_candidate("return helper(math.sqrt(x))", metadata)
    assert '"""Double the square root."""\n\nreturn helper' in unindented  # never re-indented
