"""pass@1 of the final code, with the failure's error type in the score metadata.

For a pipeline, the metadata also says how many refinement iterations ran, the error
types of the first and final code, and the whole per-iteration trace (for the reports).
"""

from __future__ import annotations

from typing import Any

from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState

from fof_inspect.grading.extract import extract_code
from fof_inspect.scorers.error_counts import error_counts
from fof_inspect.grading.execution import Execution, code_hash, execute
from fof_inspect.solvers.pipeline_state import PipelineState


def final_code(state: TaskState, pipeline: PipelineState) -> str | None:
    """A pipeline's final code, else the code in the last completion."""
    code = pipeline.code
    if code is not None or pipeline.trace:
        return code
    return extract_code(state.output.completion, state.metadata.get("entry_point"))


def pipeline_metadata(pipeline: PipelineState, final: Execution) -> dict[str, Any]:
    trace = pipeline.trace  # read once: every read of a store field validates it again
    if not trace:
        return {}
    return {
        "iterations": pipeline.refiner_calls,
        "first_error_type": trace[0].error_type,
        "final_error_type": final.error_type,
        "trace": [record.model_dump() for record in trace],
    }


def last_execution(pipeline: PipelineState, code: str | None) -> Execution | None:
    """The executor's run of exactly this code against the hidden tests, if it was the last
    one: a pipeline's final check, not run a second time."""
    graded = pipeline.graded
    if code and graded is not None and graded.code_hash and graded.code_hash == code_hash(code):
        return graded
    return None


@scorer(metrics=[accuracy(), stderr(), error_counts()])
def pass_at_1() -> Scorer:
    """Runs the final code with all hidden tests in the sample's sandbox."""

    async def score(state: TaskState, target: Target) -> Score:
        pipeline = state.store_as(PipelineState)  # once: each store_as costs a validation
        code = final_code(state, pipeline)
        execution = last_execution(pipeline, code) or await execute(code, state.metadata)
        return Score(
            value=CORRECT if execution.passed else INCORRECT,
            answer=code,
            explanation=execution.feedback or "passed",
            metadata={
                "error_type": execution.error_type,
                "code_hash": execution.code_hash,
                **pipeline_metadata(pipeline, execution),
            },
        )

    return score
