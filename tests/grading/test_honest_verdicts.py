"""Honest programs, passing and failing in every way, get the same verdict and error type
from the split grader as from the old in-process one (tests/support/legacy_grader.py), through an
Inspect eval on fof_docker and on `local`, which therefore agree with each other too."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.util import SandboxEnvironmentSpec, sandbox

from fof_inspect.grading.execution import execute
from fof_inspect.sandbox.config import SandboxConfig
from support.legacy_grader import legacy_verdict

TIMEOUT = 20
"""Generous (honest programs end in milliseconds; a loaded machine must not turn them into Timeouts)."""
SHORT_TIMEOUT = 2
"""For the programs that loop forever."""
PROMPT = 'import math\nfrom typing import List\n\ndef helper(x):\n    return x * 2\n\ndef f(x):\n    """Double x."""\n'
CHECK = "def check(candidate):\n{}\n\ncheck(f)"


def humaneval(code: str, *asserts: str) -> dict:
    return {"code": code, "prefix": PROMPT, "entry_point": "f", "tests": CHECK.format("\n".join(f"    {a}" for a in asserts))}


def mbpp(code: str, *asserts: str, imports: str = "") -> dict:
    return {"code": code, "prefix": imports, "entry_point": "f", "tests": "\n".join(asserts)}


DOUBLE = ("assert candidate(2) == 4", "assert helper(candidate(1)) == 4")
CORPUS = {
    "pass": humaneval("def f(x):\n    return x * 2", *DOUBLE),
    "pass_body_only": humaneval("    return helper(x)", *DOUBLE),
    "pass_printing": humaneval("def f(x):\n    print('computing', x)\n    return x * 2\n\nif __name__ == '__main__':\n    print(f(3))", *DOUBLE),
    "pass_float_tolerance": humaneval("def f(x):\n    return math.sqrt(x) ** 2 * 2", "assert abs(candidate(2) - 4) < 1e-6",
                                      "assert math.isclose(candidate(3), 6)"),
    "pass_generator": mbpp("def f(n):\n    yield from range(n)", "assert list(f(3)) == [0, 1, 2]", "assert sum(f(4)) == 6"),
    "fail_generator_compared": mbpp("def f(n):\n    return (i for i in range(n))", "assert f(2) == [0, 1]"),
    "pass_containers": mbpp("from collections import Counter, namedtuple\nP = namedtuple('P', 'a b')\n"
                            "def f(s):\n    return Counter(s), P(1, 2), {1, 2}, frozenset([3]), b'x', 1+2j, None, -0.0",
                            "assert f('aab') == ({'a': 2, 'b': 1}, (1, 2), {2, 1}, frozenset({3}), b'x', 1+2j, None, 0.0)"),
    "pass_module_from_candidate": mbpp("import sys\ndef f(t):\n    return sys.getsizeof(t)", "assert f((1, 2)) == sys.getsizeof((1, 2))"),
    "pass_expected_exception": mbpp("def f(x):\n    if x < 0:\n        raise ValueError('negative')\n    return x",
                                    "try:\n    f(-1)\n    raise AssertionError('no error')\nexcept ValueError as ex:\n    assert str(ex) == 'negative'"),
    "pass_deep_recursion": mbpp("def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)", "assert f(900) == 900"),
    "pass_test_imports": mbpp("import math\ndef f(x):\n    return math.pi * x", "assert math.isclose(f(1), 3.14159, rel_tol=1e-3)", imports="import math"),
    "AssertionError": humaneval("def f(x):\n    return x + 2", *DOUBLE),
    "AssertionError_bare": mbpp("def f(x):\n    return False", "assert f(1)"),
    "AssertionError_tuple_vs_list": mbpp("def f(x):\n    return [x]", "assert f(1) == (1,)"),
    "AssertionError_none": humaneval("def f(x):\n    pass", *DOUBLE),
    "NameError": humaneval("def f(x):\n    return undefined_name", *DOUBLE),
    "NameError_missing_function": mbpp("def g(x):\n    return x", "assert f(1) == 1"),
    "SyntaxError": humaneval("def f(x:\n    return x", *DOUBLE),
    "TypeError": humaneval("def f(x):\n    return x + 'a'", *DOUBLE),
    "IndexError": humaneval("def f(x):\n    return [][x]", *DOUBLE),
    "KeyError": mbpp("def f(x):\n    return {}[x]", "assert f('k') == 1"),
    "ZeroDivisionError": humaneval("def f(x):\n    return x / 0", *DOUBLE),
    "RecursionError": humaneval("def f(x):\n    return f(x)", *DOUBLE),
    "ValueError_at_import": mbpp("int('x')\ndef f(x):\n    return x", "assert f(1) == 1"),
    "custom_exception": mbpp("class Oops(Exception):\n    pass\ndef f(x):\n    raise Oops('no')", "assert f(1) == 1"),
    "Timeout": humaneval("def f(x):\n    while True:\n        pass", *DOUBLE),
    "Timeout_at_import": mbpp("while True:\n    pass", "assert f(1) == 1"),
    "EarlyExit_sys_exit": humaneval("import sys\ndef f(x):\n    return x * 2\nsys.exit(0)", *DOUBLE),
    "EarlyExit_os_exit": humaneval("import os\ndef f(x):\n    return x * 2\nos._exit(0)", *DOUBLE),
    "EarlyExit_in_function": humaneval("import sys\ndef f(x):\n    sys.exit(0)", *DOUBLE),
    "Killed": humaneval("import os, signal\ndef f(x):\n    os.kill(os.getpid(), signal.SIGKILL)", *DOUBLE),
}
DOCKER_ONLY = {
    "MemoryError": humaneval("x = bytearray(2 * 1024**3)\ndef f(x):\n    return x * 2", *DOUBLE),
}


@solver
def both_graders() -> Solver:
    """Grades the sample's code with the split grader and the old one; keeps both verdicts."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        code = state.metadata["code"]
        new = await execute(code, state.metadata)
        state.store.set("new", new.error_type if not new.passed else None)
        state.store.set("old", await legacy_verdict(sandbox(), code, state.metadata, state.metadata["timeout"]))
        return state

    return solve


def verdicts(provider: str, corpus: dict[str, dict], log_dir: Path) -> dict[str, tuple[str | None, str | None]]:
    samples = [
        Sample(id=name, input="f", metadata={**case, "timeout": SHORT_TIMEOUT if name.startswith("Timeout") else TIMEOUT})
        for name, case in corpus.items()
    ]
    spec = SandboxEnvironmentSpec(provider, SandboxConfig(timeout=TIMEOUT) if provider == "fof_docker" else None)
    task = Task(dataset=MemoryDataset(samples), solver=both_graders(), sandbox=spec)
    [log] = eval(task, model="mockllm/model", log_dir=str(log_dir), display="none", max_samples=4)
    assert log.status == "success", log.error
    return {str(s.id): (s.store["old"], s.store["new"]) for s in log.samples or []}


@pytest.mark.usefixtures("docker_sandbox")
def test_honest_verdicts_are_unchanged_in_docker(tmp_path: Path) -> None:
    got = verdicts("fof_docker", {**CORPUS, **DOCKER_ONLY}, tmp_path)
    for name, (old, new) in got.items():
        assert new == old, (name, old, new)
        assert (new is None) == name.startswith("pass"), name


def test_honest_verdicts_are_unchanged_on_the_local_sandbox(tmp_path: Path) -> None:
    got = verdicts("local", CORPUS, tmp_path)
    for name, (old, new) in got.items():
        assert new == old, (name, old, new)
        assert (new is None) == name.startswith("pass"), name
