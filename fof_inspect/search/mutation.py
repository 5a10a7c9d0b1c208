"""The seven mutation operators of the paper's NEAT search (§3.2), and random new genes.

Every operator rolls against its own rate, independently and in the paper's order
(structural first, then configuration), so several can fire on one offspring and a
later operator sees what an earlier one built (e.g. a prompt mutation may hit a node
that add_refine_stage just created). An operator that cannot apply (a full pipeline,
a stage that already has an analyzer, a one-model pool) is *blocked*: the genome is
unchanged and the operator is not reported as fired. An operator that applies but
happens to change nothing (mutate_prompt re-picking the same prompt, adjust_iterations
clamped at 1 or 3) still counts as fired; this is why the paper calls mutate_prompt's
effective rate lower than its 30%.

Choices the paper leaves open, made here:

- New nodes get a model drawn uniformly from the pool, a prompt drawn uniformly from
  their type's pool and a temperature uniform in [0.05, 1.2] (adjust_temperature's
  range); max_tokens, seed and num_ctx keep the schema defaults.
- A new stage starts at max_iterations 1: new structure enters minimal, as in NEAT,
  and adjust_iterations grows it if that pays (the paper's one failed run died of
  complexity growth).
- swap_model draws from the pool *without* the node's current model, since the paper
  mentions re-selection for prompts only; with a one-model pool it is blocked.
- add_analyzer picks a random stage among all stages and is blocked if that stage
  already has one, exactly as the paper words it (not "a random stage without one").
- Temperatures are rounded to 3 decimals so genome files stay readable.
- An offspring that any operator changed loses its parent's name and description.

All randomness comes from the caller's `random.Random`, so a seed reproduces a run.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fof_inspect.genome import MAX_ITERATIONS, MAX_NODES, MAX_STAGES, Genome, NodeGene, StageGene
from fof_inspect.search.innovation import FIRST_STAGE_INNOVATION, InnovationCounter
from fof_inspect.prompts import NodeKind, prompt_names

__all__ = [
    "RATES",
    "TEMPERATURE_RANGE",
    "TEMPERATURE_SIGMA",
    "REMOVE_ANALYZER_P",
    "DECREASE_ITERATIONS_P",
    "INITIAL_ANALYZER_P",
    "MutationContext",
    "Operator",
    "OPERATORS",
    "add_refine_stage",
    "add_analyzer",
    "remove_node",
    "swap_model",
    "mutate_prompt",
    "adjust_temperature",
    "adjust_iterations",
    "mutate",
    "random_node",
    "random_genome",
]

RATES: dict[str, float] = {
    "add_refine_stage": 0.04,
    "add_analyzer": 0.05,
    "remove_node": 0.18,
    "swap_model": 0.25,
    "mutate_prompt": 0.30,
    "adjust_temperature": 0.20,
    "adjust_iterations": 0.10,
}
"""Per-offspring probability of each operator (paper §3.2), in the order they are tried."""

TEMPERATURE_RANGE = (0.05, 1.2)
TEMPERATURE_SIGMA = 0.08
REMOVE_ANALYZER_P = 0.6
"""remove_node: chance of aiming at an analyzer rather than the last stage."""
DECREASE_ITERATIONS_P = 0.6
"""adjust_iterations: the paper's bias towards fewer iterations."""
INITIAL_ANALYZER_P = 0.3
"""random_genome: chance that the initial stage has an analyzer (our choice)."""


@dataclass
class MutationContext:
    """What mutation needs beyond the genome: the model pool and the run's innovation counter."""

    models: list[str]
    """The search's model pool (Inspect names, e.g. "ollama/llama3.2:3b")."""
    innovation: InnovationCounter = field(default_factory=InnovationCounter)
    rates: Mapping[str, float] = field(default_factory=lambda: dict(RATES))
    """Operator rates; the paper's by default. Operators missing from an override never fire."""

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("the model pool is empty; mutation needs at least one model")
        unknown = set(self.rates) - set(RATES)
        if unknown:
            raise ValueError(f"unknown mutation operators {sorted(unknown)}; known: {list(RATES)}")


Operator = Callable[[Genome, random.Random, MutationContext], Genome | None]
"""Returns the mutated copy, or None when the operator is blocked."""


# -- new genes -------------------------------------------------------------------------


def _temperature(value: float) -> float:
    lo, hi = TEMPERATURE_RANGE
    return round(min(max(value, lo), hi), 3)


def random_node(kind: NodeKind, rng: random.Random, ctx: MutationContext) -> NodeGene:
    """A fresh LLM node of one type: random pool model, random prompt of its type, random temperature."""
    return NodeGene(
        model=rng.choice(ctx.models),
        prompt=rng.choice(prompt_names(kind)),
        temperature=_temperature(rng.uniform(*TEMPERATURE_RANGE)),
    )


def random_genome(rng: random.Random, ctx: MutationContext) -> Genome:
    """A member of the initial population (the paper does not describe its initial population).

    Our choice: the minimal pipeline the paper's runs kept rediscovering, one generator
    and one stage, with random genes: 1-3 iterations uniformly and an analyzer with
    probability 0.3. Every initial stage carries FIRST_STAGE_INNOVATION, so crossover
    aligns the initial population's stages as matching, like NEAT's shared initial genes.
    """
    generator = random_node("generator", rng, ctx)
    iterations = rng.randint(1, MAX_ITERATIONS)
    analyzer = random_node("analyzer", rng, ctx) if rng.random() < INITIAL_ANALYZER_P else None
    refiner = random_node("refiner", rng, ctx)
    stage = StageGene(
        innovation=FIRST_STAGE_INNOVATION, max_iterations=iterations, analyzer=analyzer, refiner=refiner
    )
    return Genome(generator=generator, stages=[stage])


# -- operators ---------------------------------------------------------------------------


def _edited(genome: Genome, edit: Callable[[Genome], None]) -> Genome:
    """Apply an in-place edit to a copy, then re-validate so no invalid offspring escapes."""
    copy = genome.model_copy(deep=True)
    edit(copy)
    return Genome.model_validate(copy.model_dump())


def add_refine_stage(genome: Genome, rng: random.Random, ctx: MutationContext) -> Genome | None:
    """Append an executor + refiner stage with a new innovation number; blocked at 3 stages or 8 nodes."""
    if len(genome.stages) >= MAX_STAGES or genome.node_count + 2 > MAX_NODES:
        return None
    stage = StageGene(innovation=ctx.innovation.next(), max_iterations=1, refiner=random_node("refiner", rng, ctx))
    return _edited(genome, lambda g: g.stages.append(stage))


def add_analyzer(genome: Genome, rng: random.Random, ctx: MutationContext) -> Genome | None:
    """Put an analyzer into a random stage; blocked if that stage has one or the pipeline is at 8 nodes."""
    if not genome.stages:
        return None
    index = rng.randrange(len(genome.stages))
    if genome.stages[index].analyzer is not None or genome.node_count + 1 > MAX_NODES:
        return None
    analyzer = random_node("analyzer", rng, ctx)

    def edit(g: Genome) -> None:
        g.stages[index].analyzer = analyzer

    return _edited(genome, edit)


def remove_node(genome: Genome, rng: random.Random, ctx: MutationContext) -> Genome | None:
    """Remove a random analyzer (60%) or the whole last stage (40%), with the paper's fallbacks.

    Aiming at an analyzer when there is none removes the last stage instead, if there
    are at least 2 stages. Aiming at the last stage with only one stage removes that
    stage's analyzer instead, if it has one. So the pipeline never drops below 1 stage.
    """
    with_analyzer = [i for i, stage in enumerate(genome.stages) if stage.analyzer is not None]
    aim_at_analyzer = rng.random() < REMOVE_ANALYZER_P
    if aim_at_analyzer and with_analyzer:
        target: int | None = rng.choice(with_analyzer)
    elif len(genome.stages) >= 2:
        target = None  # the last stage
    elif with_analyzer:
        target = with_analyzer[0]
    else:
        return None

    def edit(g: Genome) -> None:
        if target is None:
            g.stages.pop()
        else:
            g.stages[target].analyzer = None

    return _edited(genome, edit)


def _random_llm_node(genome: Genome, rng: random.Random) -> int:
    """Index (in `llm_nodes()` order) of a uniformly chosen LLM node."""
    return rng.randrange(sum(1 for _ in genome.llm_nodes()))


def _node_at(genome: Genome, index: int) -> tuple[NodeKind, NodeGene]:
    return list(genome.llm_nodes())[index]


def swap_model(genome: Genome, rng: random.Random, ctx: MutationContext) -> Genome | None:
    """Give a random LLM node a different model from the pool; blocked if the pool has no other."""
    index = _random_llm_node(genome, rng)
    current = _node_at(genome, index)[1].model
    others = [model for model in ctx.models if model != current]
    if not others:
        return None
    model = rng.choice(others)

    def edit(g: Genome) -> None:
        _node_at(g, index)[1].model = model

    return _edited(genome, edit)


def mutate_prompt(genome: Genome, rng: random.Random, ctx: MutationContext) -> Genome | None:
    """Give a random LLM node a prompt drawn uniformly from its type's pool (possibly the same one)."""
    index = _random_llm_node(genome, rng)
    kind = _node_at(genome, index)[0]
    prompt = rng.choice(prompt_names(kind))

    def edit(g: Genome) -> None:
        _node_at(g, index)[1].prompt = prompt

    return _edited(genome, edit)


def adjust_temperature(genome: Genome, rng: random.Random, ctx: MutationContext) -> Genome | None:
    """Gaussian jitter (σ 0.08) on a random LLM node's temperature, clipped to [0.05, 1.2]."""
    index = _random_llm_node(genome, rng)
    jitter = rng.gauss(0.0, TEMPERATURE_SIGMA)

    def edit(g: Genome) -> None:
        node = _node_at(g, index)[1]
        node.temperature = _temperature(node.temperature + jitter)

    return _edited(genome, edit)


def adjust_iterations(genome: Genome, rng: random.Random, ctx: MutationContext) -> Genome | None:
    """±1 on a random stage's max_iterations (60% down, 40% up), clamped to [1, 3]."""
    if not genome.stages:
        return None
    index = rng.randrange(len(genome.stages))
    step = -1 if rng.random() < DECREASE_ITERATIONS_P else 1

    def edit(g: Genome) -> None:
        stage = g.stages[index]
        stage.max_iterations = min(max(stage.max_iterations + step, 1), MAX_ITERATIONS)

    return _edited(genome, edit)


OPERATORS: dict[str, Operator] = {
    "add_refine_stage": add_refine_stage,
    "add_analyzer": add_analyzer,
    "remove_node": remove_node,
    "swap_model": swap_model,
    "mutate_prompt": mutate_prompt,
    "adjust_temperature": adjust_temperature,
    "adjust_iterations": adjust_iterations,
}


def mutate(genome: Genome, rng: random.Random, ctx: MutationContext) -> tuple[Genome, list[str]]:
    """The offspring and the operators that fired on it, each rolled independently at its rate.

    If nothing fired, the offspring is `genome` itself (genomes are not changed in place).
    """
    fired: list[str] = []
    for name, operator in OPERATORS.items():
        if rng.random() < ctx.rates.get(name, 0.0):
            offspring = operator(genome, rng, ctx)
            if offspring is not None:
                genome = offspring
                fired.append(name)
    if fired:
        genome = genome.model_copy(update={"name": None, "description": None})
    return genome, fired
