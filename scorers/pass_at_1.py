"""pass@1 of the final code, with the failure's error type in the score metadata.

The metadata also shows what was graded: `extraction` (mode, the rule that picked the
code, what was dropped and why) and `graded_code` (the candidate part of the graded
program: the benchmark's prefix and the code; the tests follow it). For a pipeline it
also says how many refinement iterations ran, the error types of the first and final
code, and the whole per-iteration trace (for the reports).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inspect_ai.scorer import (
    CORRECT,
    INCORRECT,
    Score,
    Scorer,
    Target,
    accuracy,
    scorer,
    stderr,
    value_to_float,
)
from inspect_ai.solver import TaskState

from fof_inspect.grading.error_type import NO_CODE
from fof_inspect.grading.execution import VERDICT, Execution, execute, short_hash
from fof_inspect.grading.extract import Extraction, extract
from fof_inspect.grading.program import build_candidate
from fof_inspect.scorers.error_counts import error_counts
from fof_inspect.solvers.pipeline_state import PipelineState

SCORER_NAME = "pass_at_1"
"""The name this scorer's scores carry in a log (`fof_inspect/pass_at_1` when registered with the package)."""
_to_float = value_to_float()


def is_pass_at_1(name: str) -> bool:
    return name.rsplit("/", 1)[-1] == SCORER_NAME


def pass_at_1_score(scores: Mapping[str, Score] | None) -> Score | None:
    """This scorer's score among a sample's scores, if it has one."""
    return next((score for name, score in (scores or {}).items() if is_pass_at_1(name)), None)


def passed(score: Score | None) -> bool:
    """The one rule for "the sample passed": pass@1 said CORRECT (1.0 once reduced over epochs)."""
    return score is not None and _to_float(score.value) == 1.0


def final_code(state: TaskState, pipeline: PipelineState) -> tuple[str | None, Extraction | None]:
    """A pipeline's final code (and how it was extracted), else the last completion's."""
    code = pipeline.code
    if code is not None or pipeline.trace:
        return code, pipeline.extraction
    extraction = extract(state.output.completion, state.metadata)
    return extraction.code, extraction


def graded_metadata(code: str | None, extraction: Extraction | None, metadata: dict[str, Any]) -> dict[str, Any]:
    """What was graded, for a user reading the score in Inspect View."""
    return {
        "extraction": extraction.model_dump(exclude={"code"}) if extraction else None,
        "graded_code": build_candidate(code, metadata) if code else None,
    }


def explanation(execution: Execution, extraction: Extraction | None) -> str:
    """The traceback, or for code that sanitizing emptied, what was dropped."""
    if execution.error_type == NO_CODE and extraction and extraction.code == "" and extraction.dropped:
        dropped = "; ".join(extraction.dropped)
        return f"NoCode: the answer has only top-level code (tests, prints), which is not graded: {dropped}"
    return execution.feedback or "passed"


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
    if code and graded is not None and graded.code_hash and graded.code_hash == short_hash(code):
        return graded
    return None


@scorer(metrics=[accuracy(), stderr(), error_counts()])
def pass_at_1() -> Scorer:
    """Runs the final code with all hidden tests in the sample's sandbox."""

    async def score(state: TaskState, target: Target) -> Score:
        pipeline = state.store_as(PipelineState)  # once: each store_as costs a validation
        code, extraction = final_code(state, pipeline)
        execution = last_execution(pipeline, code) or await execute(code, state.metadata)
        return Score(
            value=CORRECT if execution.passed else INCORRECT,
            answer=code,
            explanation=explanation(execution, extraction),
            metadata={
                "error_type": execution.error_type,
                "code_hash": execution.code_hash,
                "time_limit": execution.time_limit,
                "verdict": VERDICT,
                **graded_metadata(code, extraction, state.metadata),
                **pipeline_metadata(pipeline, execution),
            },
        )

    return score
