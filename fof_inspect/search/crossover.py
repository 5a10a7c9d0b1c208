"""Crossover of two parent genomes, stages aligned by innovation number (paper §3.2).

Genes are inherited whole: the generator as one node, each stage as one block (its
iterations, analyzer and refiner together), because a stage's refiner prompt and its
analyzer were selected together and splitting them would mostly produce noise.

Which parent counts as fitter is the caller's decision (`selection.breed` orders
parents by parsimony-adjusted fitness with the paper's tie-break); with equal
fitness either order is valid, and it only changes whose disjoint stages are kept
for sure.
"""

from __future__ import annotations

import random

from fof_inspect.genome import MAX_NODES, MAX_STAGES, Genome, StageGene

__all__ = ["WEAKER_DISJOINT_P", "crossover"]

WEAKER_DISJOINT_P = 0.3
"""Chance that a stage only the weaker parent has is inherited (the fitter's always are)."""


def crossover(fitter: Genome, weaker: Genome, rng: random.Random) -> Genome:
    """A child of two parents.

    - generator: a coin flip takes one parent's whole generator;
    - matching stages (innovation number in both): a coin flip takes one parent's whole stage;
    - disjoint stages: the fitter parent's always, the weaker parent's with p 0.3;
    - the child's stages are ordered by innovation number, then trailing stages are
      dropped until there are at most 3 stages and at most 8 nodes.

    The child has no name or description.
    """
    generator = fitter.generator if rng.random() < 0.5 else weaker.generator
    weaker_stages = {stage.innovation: stage for stage in weaker.stages}
    fitter_innovations = {stage.innovation for stage in fitter.stages}

    stages: list[StageGene] = []
    for stage in fitter.stages:
        match = weaker_stages.get(stage.innovation)
        stages.append(stage if match is None or rng.random() < 0.5 else match)
    for stage in weaker.stages:
        if stage.innovation not in fitter_innovations and rng.random() < WEAKER_DISJOINT_P:
            stages.append(stage)
    stages.sort(key=lambda stage: stage.innovation)

    del stages[MAX_STAGES:]
    while stages and 1 + sum(stage.node_count for stage in stages) > MAX_NODES:
        stages.pop()

    return Genome.model_validate(
        {"generator": generator.model_dump(), "stages": [stage.model_dump() for stage in stages]}
    )
