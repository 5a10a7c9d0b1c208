"""pass@1 of the final code, with the failure's error type in the score metadata."""

from __future__ import annotations

from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState

from fof_inspect.extract import extract_code
from fof_inspect.scorers.error_counts import error_counts
from fof_inspect.scorers.execution import execute

CODE_KEY = "code"
"""Store key where a pipeline leaves its final code (else the last completion is graded)."""


def final_code(state: TaskState) -> str | None:
    code = state.store.get(CODE_KEY)
    if code is not None:
        return code
    return extract_code(state.output.completion, state.metadata.get("entry_point"))


@scorer(metrics=[accuracy(), stderr(), error_counts()])
def pass_at_1() -> Scorer:
    """Runs the final code with all hidden tests in the sample's sandbox."""

    async def score(state: TaskState, target: Target) -> Score:
        code = final_code(state)
        execution = await execute(code, state.metadata)
        return Score(
            value=CORRECT if execution.passed else INCORRECT,
            answer=code,
            explanation=execution.feedback or "passed",
            metadata={"error_type": execution.error_type, "code_hash": execution.code_hash},
        )

    return score
