"""Generator node: writes the first draft of the code from the problem."""

from __future__ import annotations

from inspect_ai.model import CachePolicy
from inspect_ai.solver import Generate, Solver, TaskState, solver

from fof_inspect.grading.extract import extract
from fof_inspect.genome import NodeGene
from fof_inspect.prompts import GENERATOR_TEMPLATE
from fof_inspect.solvers.feedback_mode import check_mode, problem_text
from fof_inspect.solvers.llm_node import call_node
from fof_inspect.solvers.pipeline_state import PipelineState


@solver
def generator(node: NodeGene, feedback: str = "hidden", cache: bool | CachePolicy = False) -> Solver:
    mode = check_mode(feedback)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        output = await call_node("generator", node, GENERATOR_TEMPLATE.format(problem=problem_text(state, mode)), cache)
        pipeline = state.store_as(PipelineState)
        extraction = extract(output.completion, state.metadata)
        pipeline.code, pipeline.extraction = extraction.code, extraction
        pipeline.produced_by = "generator"
        state.output = output
        return state

    return solve
