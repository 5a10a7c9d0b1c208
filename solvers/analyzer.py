"""Analyzer node: a natural-language diagnosis of the failure, for the refiner to use."""

from __future__ import annotations

from inspect_ai.model import CachePolicy
from inspect_ai.solver import Generate, Solver, TaskState, solver

from fof_inspect.genome import NodeGene
from fof_inspect.prompts import ANALYZER_TEMPLATE
from fof_inspect.solvers.feedback_mode import check_mode, problem_text
from fof_inspect.solvers.llm_node import call_node
from fof_inspect.solvers.pipeline_state import PipelineState


@solver
def analyzer(
    node: NodeGene, feedback: str = "hidden", cache: bool | CachePolicy = False, stage: int = 1, iteration: int = 1
) -> Solver:
    mode = check_mode(feedback)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        pipeline = state.store_as(PipelineState)
        message = ANALYZER_TEMPLATE.format(
            problem=problem_text(state, mode),
            code=pipeline.code or "",
            feedback=pipeline.execution.feedback if pipeline.execution else "",
        )
        output = await call_node("analyzer", node, message, cache, state.epoch, draw=f"{stage}.{iteration}")
        pipeline.analysis = output.completion
        return state

    return solve
