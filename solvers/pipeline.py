"""`pipeline`: a genome's generator → [executor → analyzer? → refiner] × iterations × stages.

Early stopping (on by default) returns as soon as the code passes the tests the pipeline
may see; `early_stop=false` keeps refining (the paper's ablation). Either way every
execution is in the trace, so one run without early stopping yields both outcomes.
Each node runs in its own span, so Inspect View shows the pipeline step by step.
"""

from __future__ import annotations

from inspect_ai.model import CachePolicy, ChatMessageAssistant, Model, get_model, model_roles
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.util import span

from fof_inspect.genome import Genome
from fof_inspect.preflight import preflight
from fof_inspect.solvers.analyzer import analyzer
from fof_inspect.solvers.executor import executor
from fof_inspect.solvers.feedback_mode import check_mode
from fof_inspect.solvers.generator import generator
from fof_inspect.solvers.oracle import answer_output
from fof_inspect.solvers.pipeline_state import PipelineState
from fof_inspect.solvers.presets import resolve_genome
from fof_inspect.solvers.refiner import refiner


@solver
def pipeline(
    genome: str | Genome = "solo",
    early_stop: bool = True,
    feedback: str = "hidden",
    cache: bool | CachePolicy = False,
) -> Solver:
    """`genome`: a named pipeline or a genome YAML file (`-S genome=path.yaml`)."""
    spec = genome if isinstance(genome, Genome) else resolve_genome(genome)
    name = str(genome) if not isinstance(genome, Genome) else spec.name or "pipeline"
    mode = check_mode(feedback)
    preflight(resolved_models(spec))

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.metadata["feedback_mode"] = mode
        state.metadata["pipeline"] = spec.describe()  # for people; the reports read the two below
        state.metadata["pipeline_name"] = name
        state.metadata["genome"] = spec.model_dump(mode="json")
        async with span("generator"):
            state = await generator(spec.generator, mode, cache)(state, generate)
        final_stage = len(spec.stages) + 1
        for s, stage in enumerate(spec.stages, start=1):
            for i in range(1, stage.max_iterations + 1):
                async with span(f"executor (stage {s}, iteration {i})"):
                    state = await executor(s, i, mode)(state, generate)
                if early_stop and state.store_as(PipelineState).trace[-1].feedback_passed:
                    return finish(state)
                if stage.analyzer:
                    async with span(f"analyzer (stage {s}, iteration {i})"):
                        state = await analyzer(stage.analyzer, mode, cache, s, i)(state, generate)
                async with span(f"refiner (stage {s}, iteration {i})"):
                    state = await refiner(stage.refiner, s, i, mode, cache)(state, generate)
        async with span("executor (final code)"):
            state = await executor(final_stage, 1, mode)(state, generate)
        return finish(state)

    return solve


def finish(state: TaskState) -> TaskState:
    """Leave the final code as the sample's answer, in the form any task's scorer reads:
    one fenced block as the last assistant message and as `state.output`."""
    code = state.store_as(PipelineState).code
    if code is not None:
        state.output = answer_output(state.output, code)
    state.messages.append(ChatMessageAssistant(content=state.output.completion, source="generate"))
    return state


def resolved_models(spec: Genome) -> list[str | Model]:
    """The models the eval will really call: role overrides, else the genome's, else the eval's."""
    roles = model_roles()
    names: list[str | Model] = []
    for kind, node in spec.llm_nodes():
        if kind in roles:
            names.append(get_model(role=kind))
        elif node.model:
            names.append(node.model)
        else:
            try:
                names.append(get_model())
            except ValueError:
                pass  # no eval model yet: the provider reports it at the first call
    return names
