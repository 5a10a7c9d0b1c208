"""Scripted solvers shared by the tests: answers that come from the sample, not a model."""

from __future__ import annotations

from inspect_ai.model import ModelOutput
from inspect_ai.solver import Generate, Solver, TaskState, solver


@solver
def answer_from_metadata() -> Solver:
    """Answers with the sample's scripted text, as a model would."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.output = ModelOutput.from_content(model="script", content=state.metadata["answer"])
        return state

    return solve
