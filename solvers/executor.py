"""Executor node: runs the current code in the sample's sandbox and records the result.

It always grades against the hidden tests for the trace (what pass@1 would say of each
version of the code), and in `public` mode runs the public tests too, for the feedback
the pipeline is allowed to see.
"""

from __future__ import annotations

from inspect_ai.log import transcript
from inspect_ai.solver import Generate, Solver, TaskState, solver

from fof_inspect.grading.execution import execute
from fof_inspect.solvers.feedback_mode import check_mode, feedback_tests
from fof_inspect.solvers.pipeline_state import IterationRecord, PipelineState


@solver
def executor(stage: int = 1, iteration: int = 1, feedback: str = "hidden") -> Solver:
    mode = check_mode(feedback)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        pipeline = state.store_as(PipelineState)
        hidden = await execute(pipeline.code, state.metadata)
        tests = feedback_tests(state, mode)
        seen = hidden if tests is None else await execute(pipeline.code, state.metadata, tests=tests)
        pipeline.execution = seen
        pipeline.graded = hidden
        record = IterationRecord(
            stage=stage,
            iteration=iteration,
            produced_by=pipeline.produced_by,
            code_hash=hidden.code_hash,
            passed=hidden.passed,
            error_type=hidden.error_type,
            feedback_passed=seen.passed,
        )
        pipeline.trace = [*pipeline.trace, record]
        transcript().info(
            {"execution": record.model_dump(), "feedback": seen.feedback or "passed", "feedback_mode": mode},
            source="executor",
        )
        return state

    return solve
