"""Executor node: judges the current code with the task's oracle and records the result.

The oracle (solvers/oracle.py) is fof's grader on fof's tasks and the task's own scorer
on any other. The trace records what the hidden tests say of each version of the code
(what the final score would say); in `public` mode the feedback comes from the public
tests alone.
"""

from __future__ import annotations

from inspect_ai.log import transcript
from inspect_ai.solver import Generate, Solver, TaskState, solver

from fof_inspect.solvers.feedback_mode import check_mode
from fof_inspect.solvers.oracle import choose_oracle, judge
from fof_inspect.solvers.pipeline_state import IterationRecord, PipelineState


@solver
def executor(stage: int = 1, iteration: int = 1, feedback: str = "hidden") -> Solver:
    mode = check_mode(feedback)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        pipeline = state.store_as(PipelineState)
        oracle = choose_oracle(state.metadata, mode)
        hidden, seen = await judge(state, pipeline.code, oracle, mode)
        pipeline.execution = seen
        pipeline.graded = hidden
        pipeline.oracle = oracle
        state.metadata["oracle"] = oracle
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
            {
                "execution": record.model_dump(),
                "feedback": seen.feedback or "passed",
                "feedback_mode": mode,
                "oracle": oracle,
            },
            source="executor",
        )
        return state

    return solve
