"""Genome builders and statistics helpers for the search's tests."""

from __future__ import annotations

import math

from fof_inspect.genome import MAX_NODES, MAX_STAGES, Genome, NodeGene, StageGene
from fof_inspect.search.innovation import InnovationCounter
from fof_inspect.search.mutation import RATES, MutationContext

MODELS = ["ollama/gemma3:1b", "ollama/qwen2.5:1.5b", "ollama/llama3.2:3b"]
TRIALS = 4000


def node(prompt: str, model: str = MODELS[2], temperature: float = 0.5) -> NodeGene:
    return NodeGene(model=model, prompt=prompt, temperature=temperature)


def stage(
    innovation: int,
    iterations: int = 1,
    analyzer: bool = False,
    model: str = MODELS[2],
    prompt: str = "fix",
    temperature: float = 0.5,
) -> StageGene:
    return StageGene(
        innovation=innovation,
        max_iterations=iterations,
        analyzer=node("diagnose", model, temperature) if analyzer else None,
        refiner=node(prompt, model, temperature),
    )


def genome(*stages: StageGene, model: str = MODELS[2], prompt: str = "plain", temperature: float = 0.5) -> Genome:
    return Genome(generator=node(prompt, model, temperature), stages=list(stages))


def context(models: list[str] = MODELS, counter: int = 10, **rates: float) -> MutationContext:
    """A context whose counter is past the test genomes' innovations; `rates` override (others off)."""
    return MutationContext(models=list(models), innovation=InnovationCounter(counter), rates=rates or dict(RATES))


def within(observed: int, trials: int, p: float, sigmas: float = 4.0) -> bool:
    """Is a count consistent with rate p? (binomial, a few standard deviations)."""
    return abs(observed / trials - p) <= sigmas * math.sqrt(p * (1 - p) / trials)


def valid(g: Genome) -> bool:
    Genome.model_validate(g.model_dump())
    return 1 <= len(g.stages) <= MAX_STAGES and g.node_count <= MAX_NODES
