"""Feedback modes: what the pipeline may see of a problem's tests.

`hidden` (the paper's setting): the refiner sees the traceback from the benchmark's own
tests. `public`: it sees only tests the model may know (HumanEval's docstring examples,
MBPP's first listed test), and the problem statement shows no more than those; grading
still uses every hidden test.
"""

from __future__ import annotations

from typing import Literal

from inspect_ai.solver import TaskState

FeedbackMode = Literal["hidden", "public"]
FEEDBACK_MODES: tuple[FeedbackMode, ...] = ("hidden", "public")


def check_mode(feedback: str) -> FeedbackMode:
    if feedback not in FEEDBACK_MODES:
        raise ValueError(f"feedback must be one of {', '.join(FEEDBACK_MODES)}, not {feedback!r}")
    return feedback  # type: ignore[return-value]


def problem_text(state: TaskState, feedback: FeedbackMode) -> str:
    """The problem as the model is shown it in this mode."""
    if feedback == "public":
        return state.metadata.get("public_input") or state.input_text
    return state.input_text


def feedback_tests(state: TaskState, feedback: FeedbackMode) -> str | None:
    """The tests whose failures the pipeline sees (None: the hidden tests)."""
    return state.metadata.get("public_tests", "") if feedback == "public" else None
