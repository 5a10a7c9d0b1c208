"""The executor's oracle: what says whether a version of the code passes, and why not.

On fof's own tasks (samples carrying fof's hidden `tests` and an `entry_point`) it is
fof's grader, which also gives `feedback=public` its public tests. On any other Inspect
task it is the task's own scorers, run by Inspect's public `score(state)` on the code
written as the task's scorer reads an answer (one fenced block, as the assistant's
completion): pass or fail from the score's value, the explanation (and the answer the
scorer graded) as the feedback the analyzer and refiner see. So the pipelines run on
inspect_evals' tasks unchanged, and their final score is the task's own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from copy import copy
from typing import Any, Literal

from inspect_ai.model import ChatMessageAssistant, ModelOutput
from inspect_ai.scorer import CORRECT, Score, Value, score
from inspect_ai.solver import TaskState

from fof_inspect.grading.error_type import NO_CODE, exception_class
from fof_inspect.grading.execution import FEEDBACK_CHARS, Execution, execute
from fof_inspect.solvers.feedback_mode import FeedbackMode, feedback_tests

Oracle = Literal["fof_grader", "task_scorer"]
FOF_GRADER: Oracle = "fof_grader"
TASK_SCORER: Oracle = "task_scorer"

INCORRECT_TYPE = "Incorrect"
"""The error type of a failure the task's scorer judged without a Python traceback."""

FENCE_LINE = re.compile(r"^[ \t]*```[\w+-]*[ \t]*\n?", re.MULTILINE)

PASSING_WORDS = frozenset({CORRECT.lower(), "correct", "yes", "y", "true", "pass", "passed", "success"})


class OracleError(ValueError):
    """The task gives the executor no way to judge code."""


def choose_oracle(metadata: Mapping[str, Any], feedback: FeedbackMode) -> Oracle:
    """fof's grader where the sample carries what it assembles (hidden `tests` and an
    `entry_point`), else the task's scorers."""
    if isinstance(metadata.get("tests"), str) and "entry_point" in metadata:
        return FOF_GRADER
    if feedback == "public":
        raise OracleError(
            "feedback=public needs fof's public tests, and this task's samples have none "
            "(its own scorer is the executor's oracle): run it with feedback=hidden."
        )
    return TASK_SCORER


async def judge(state: TaskState, code: str | None, oracle: Oracle, feedback: FeedbackMode) -> tuple[Execution, Execution]:
    """(verdict on every test, verdict on the tests the pipeline may see) for `code`."""
    if oracle == TASK_SCORER:
        verdict = await task_scorer_verdict(state, code)
        return verdict, verdict
    hidden = await execute(code, state.metadata)
    tests = feedback_tests(state, feedback)
    return hidden, hidden if tests is None else await execute(code, state.metadata, tests=tests)


async def task_scorer_verdict(state: TaskState, code: str | None) -> Execution:
    """Run the task's own scorers on `code` as the sample's answer (the sample is untouched)."""
    if not code or not code.strip():
        return Execution(passed=False, error_type=NO_CODE, feedback="No Python code was found in the answer.")
    probe = copy(state)
    probe.output = answer_output(state.output, code)
    probe.messages = [*state.messages, ChatMessageAssistant(content=probe.output.completion, source="generate")]
    try:
        scores = await score(probe)
    except RuntimeError as ex:
        if "score() function" not in str(ex):  # raised by a scorer, not by score() itself
            raise
        raise OracleError(
            "this task has no scorer and its samples lack fof's `tests`, so the executor has no oracle: "
            "give the task a scorer that grades the code."
        ) from None
    passed = bool(scores) and all(score_passed(s.value) for s in scores)
    feedback = "" if passed else failure_feedback(scores, code, probe.output.completion)
    return Execution(
        passed=passed,
        error_type=None if passed else exception_class(feedback) or INCORRECT_TYPE,
        feedback=feedback,
        code_hash=hashlib.sha256(code.encode()).hexdigest()[:12],
    )


def score_passed(value: Value) -> bool:
    """Whether a score's value says the code passed.

    Passing: CORRECT (`"C"`) and the words `correct`, `yes`, `y`, `true`, `pass`, `passed`,
    `success` (any case); `True`; a number of at least 1 (`1`, `1.0`: a fraction below 1
    means some tests failed). A list or dict of values passes when every entry does.
    Anything else (`"I"`, `"P"`, `0`, `0.5`, `False`, `"no"`) fails.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value >= 1
    if isinstance(value, str):
        return value.strip().lower() in PASSING_WORDS
    if isinstance(value, list):
        return bool(value) and all(score_passed(v) for v in value)
    if isinstance(value, dict):
        return bool(value) and all(score_passed(v) for v in value.values())
    return False


def failure_feedback(scores: list[Score], code: str, completion: str) -> str:
    """What the refiner sees of a failure: each failing score's value, explanation and,
    if it differs from what was submitted, the answer the scorer graded."""
    if not scores:
        return "The task's scorer gave no score for this code."
    parts = []
    for s in scores:
        if score_passed(s.value):
            continue
        parts.append(f"The task's scorer judged the code incorrect (score: {s.value}).")
        if s.explanation:
            parts.append(tail(s.explanation.strip(), FEEDBACK_CHARS))
        if s.answer and s.answer.strip() not in (code.strip(), completion.strip()):
            parts.append(f"The answer it graded:\n{tail(s.answer.strip(), FEEDBACK_CHARS // 4)}")
    # the prompts show feedback inside a fenced block: the scorer's own fences would end it
    return FENCE_LINE.sub("", "\n\n".join(parts))


def tail(text: str, chars: int) -> str:
    """The end of `text` (where a traceback ends), marked as cut if it was longer."""
    return text if len(text) <= chars else "...\n" + text[-chars:]


def answer_output(previous: ModelOutput, code: str) -> ModelOutput:
    """`code` as a model's completion: one fenced python block (usage kept for the log)."""
    output = ModelOutput.from_content(model=previous.model, content=f"```python\n{code}\n```")
    output.usage = previous.usage
    return output
