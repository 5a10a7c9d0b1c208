"""Refiner node: rewrites failed code from the problem, the code, its traceback and the
analysis if an analyzer ran. If its answer holds no code, the previous code stays."""

from __future__ import annotations

from inspect_ai.log import transcript
from inspect_ai.model import CachePolicy
from inspect_ai.solver import Generate, Solver, TaskState, solver

from fof_inspect.grading.extract import extract
from fof_inspect.genome import NodeGene
from fof_inspect.prompts import refiner_message
from fof_inspect.solvers.feedback_mode import check_mode, problem_text
from fof_inspect.solvers.llm_node import call_node
from fof_inspect.solvers.pipeline_state import PipelineState


@solver
def refiner(
    node: NodeGene, stage: int = 1, iteration: int = 1, feedback: str = "hidden", cache: bool | CachePolicy = False
) -> Solver:
    mode = check_mode(feedback)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        pipeline = state.store_as(PipelineState)
        message = refiner_message(
            problem=problem_text(state, mode),
            code=pipeline.code or "",
            feedback=pipeline.execution.feedback if pipeline.execution else "",
            analysis=pipeline.analysis,
        )
        output = await call_node("refiner", node, message, cache, state.epoch, draw=f"{stage}.{iteration}")
        extraction = extract(output.completion, state.metadata)
        if extraction.code is None:
            transcript().info("the refiner's answer held no code: keeping the previous code", source="refiner")
        else:
            pipeline.code, pipeline.extraction = extraction.code, extraction
        pipeline.produced_by = f"refiner@{stage}.{iteration}"
        pipeline.analysis = None
        pipeline.refiner_calls += 1
        state.output = output
        return state

    return solve
