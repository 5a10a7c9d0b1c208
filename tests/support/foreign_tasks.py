"""Two tasks that are not fof's, written the way inspect_evals writes its humaneval and
its mbpp: their own sample metadata, their own scorers (fenced code extracted from
`state.output.completion`, run with `python -c` through `sandbox().exec`), nothing of
fof's. The pipelines must run on them with these scorers as their oracle.

    inspect eval tests/support/foreign_tasks.py@foreign_humaneval --solver fof_inspect/self_refine
"""

from __future__ import annotations

import re
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, mean, scorer, std, stderr
from inspect_ai.solver import TaskState, generate
from inspect_ai.util import ExecResult, SandboxEnvironmentSpec, sandbox

from fof_inspect.sandbox.config import SandboxConfig

VERIFY_TIMEOUT = 10

HUMANEVAL_RECORDS = [
    {
        "task_id": "Foreign/0",
        "prompt": 'def triple(x):\n    """Return x times three.\n    >>> triple(2)\n    6\n    """\n',
        "test": "def check(candidate):\n    assert candidate(2) == 6\n    assert candidate(-1) == -3\n",
        "entry_point": "triple",
    },
    {
        "task_id": "Foreign/1",
        "prompt": 'def shout(s):\n    """Return s in upper case with an exclamation mark.\n    >>> shout("hi")\n    \'HI!\'\n    """\n',
        "test": "def check(candidate):\n    assert candidate('hi') == 'HI!'\n    assert candidate('') == '!'\n",
        "entry_point": "shout",
    },
]

MBPP_RECORDS = [
    {
        "task_id": 9001,
        "prompt": "Write a function to find the maximum of two numbers, named bigger.",
        "code": "def bigger(a, b):\n    return a if a > b else b",
        "test_list": ["assert bigger(1, 2) == 2", "assert bigger(5, -3) == 5", "assert bigger(4, 4) == 4"],
        "test_imports": [],
        "source_file": "foreign.py",
    },
]

HUMANEVAL_INSTRUCTION = "Read the following function signature and docstring, and fully implement the function described. Your response should only contain the code for this function.\n"


# ------------------------------------------------------------------ humaneval-like


@task
def foreign_humaneval() -> Task:
    return Task(
        dataset=MemoryDataset([humaneval_record_to_sample(r) for r in HUMANEVAL_RECORDS]),
        solver=[generate()],
        scorer=verify(),
        sandbox="local",
    )


def humaneval_record_to_sample(record: dict[str, Any]) -> Sample:
    return Sample(
        id=record["task_id"],
        input=HUMANEVAL_INSTRUCTION + record["prompt"],
        target=record["prompt"],
        metadata={"prompt": record["prompt"], "test": record["test"], "entry_point": record["entry_point"]},
    )


@scorer(metrics=[accuracy(), stderr()])
def verify() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        answer = find_code(state.output.completion)
        code = [
            state.metadata["prompt"],
            answer,
            "\n",
            state.metadata["test"],
            "\n",
            "".join(["check(", state.metadata["entry_point"], ")"]),
        ]
        try:
            result = await sandbox().exec(cmd=["python", "-c", "".join(code)], timeout=VERIFY_TIMEOUT)
        except TimeoutError:
            result = ExecResult(False, 1, "", "Verification timed out.")
        explanation = "".join(["The following verification code was executed:\n\n", "```python\n\n", *code, "\n```\n"])
        if result.success:
            explanation += "The submission was correct."
        else:
            explanation += f"The submission was incorrect with the following error: \n\n{result.stderr}"
        return Score(value=CORRECT if result.success else INCORRECT, answer=answer, explanation=explanation)

    return score


def find_code(completion: str) -> str:
    pattern_1 = re.compile(r"```python\n(.*?)```", re.DOTALL)
    pattern_2 = re.compile(r"```\n(.*?)```", re.DOTALL)
    matches = pattern_1.findall(completion) + pattern_2.findall(completion)
    return extract_function_body(matches[0]) if matches else completion


def extract_function_body(code: str) -> str:
    return code[code.find(":\n    ") + 2 :]


# ------------------------------------------------------------------ mbpp-like


@task
def foreign_mbpp() -> Task:
    return Task(
        dataset=MemoryDataset([mbpp_record_to_sample(r) for r in MBPP_RECORDS]),
        solver=[generate()],
        scorer=mbpp_verify(),
        sandbox=SandboxEnvironmentSpec("fof_docker", SandboxConfig(timeout=VERIFY_TIMEOUT)),
    )


def mbpp_record_to_sample(record: dict[str, Any]) -> Sample:
    return Sample(
        input=record["prompt"],
        target=record["test_list"],
        id=record["task_id"],
        metadata={
            "prompt": record["prompt"],
            "test_list": record["test_list"],
            "test_list_str": "\n".join(record["test_list"]),
            "source_file": record["source_file"],
            "code": record["code"],
            "test_imports": record["test_imports"],
            "task_id": record["task_id"],
        },
    )


@scorer(metrics=[mean(), std()])
def mbpp_verify() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        raw_generated_code = state.output.completion
        code = mbpp_find_code(raw_generated_code)
        for test_case in target.target:
            code += f"{test_case}, {repr(test_case[len('assert '):])}\n"
        explanation = f"The following code was executed:\n\n```python\n{code}\n```\n"
        try:
            # the offline-built sandbox image has python3 only
            result = await sandbox().exec(cmd=["python3", "-c", code], timeout=VERIFY_TIMEOUT)
            if result.success:
                explanation += "All test cases passed.\n"
            else:
                explanation += "Code did not pass all test cases.\n"
                if result.stderr:
                    explanation += f"See details below.\n```python\n{result.stderr}\n```\n"
        except TimeoutError:
            result = ExecResult(False, 1, "", "Verification timed out.")
            explanation += "Verification timed out."
        return Score(value=CORRECT if result.success else INCORRECT, answer=raw_generated_code, explanation=explanation)

    return score


def mbpp_find_code(completion: str) -> str:
    matches = re.compile(r"```python\n(.*?)```", re.DOTALL).findall(completion)
    return str(matches[0] if matches else completion)
