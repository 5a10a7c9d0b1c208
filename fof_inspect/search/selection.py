"""Selection and reproduction: parsimony, fitness sharing, elitism, tournaments (paper §3.2).

Raw fitness is the number of the generation's problems solved. Selection then uses
two derived fitnesses:

- *adjusted* fitness, raw − 0.02 × node count (the paper's parsimony penalty), decides
  the elites and which of two parents is the fitter one for crossover;
- *shared* fitness, adjusted fitness divided by species size, drives the tournaments,
  so a crowded topology cannot take over the population.

Wherever fitnesses tie, the paper prefers fewer iterations; we then prefer fewer
nodes and finally the smaller genome id, so every ranking is deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence

from fof_inspect.search.crossover import crossover
from fof_inspect.genome import Genome
from fof_inspect.search.mutation import MutationContext, mutate
from fof_inspect.search.speciation import Species

__all__ = [
    "PARSIMONY",
    "POPULATION_SIZE",
    "ELITISM",
    "TOURNAMENT_SIZE",
    "fitness_with_parsimony",
    "shared_fitness",
    "rank",
    "elites",
    "tournament",
    "breed",
]

PARSIMONY = 0.02
"""Fitness lost per node: a 5-node genome loses 0.10, a 3-node one 0.06."""
POPULATION_SIZE = 20
ELITISM = 2
TOURNAMENT_SIZE = 3


def fitness_with_parsimony(raw: float, genome: Genome, parsimony: float = PARSIMONY) -> float:
    """Raw fitness minus the parsimony penalty, so extra nodes must earn their keep."""
    return raw - parsimony * genome.node_count


def shared_fitness(fitness: Mapping[str, float], species: Iterable[Species]) -> dict[str, float]:
    """Each genome's fitness divided by the size of its species.

    Negative fitness (a genome that solved nothing, after the parsimony penalty) counts
    as 0 here: dividing it would make a crowded species look *better*, the opposite
    of what sharing is for.
    """
    size = {member: len(s.members) for s in species for member in s.members}
    missing = [genome_id for genome_id in fitness if genome_id not in size]
    if missing:
        raise ValueError(f"genomes in no species: {missing}")
    return {genome_id: max(value, 0.0) / size[genome_id] for genome_id, value in fitness.items()}


def _sort_key(genome_id: str, fitness: Mapping[str, float], genomes: Mapping[str, Genome]) -> tuple:
    genome = genomes[genome_id]
    return (-fitness[genome_id], genome.total_iterations, genome.node_count, genome_id)


def rank(ids: Iterable[str], fitness: Mapping[str, float], genomes: Mapping[str, Genome]) -> list[str]:
    """Best first; ties go to fewer total iterations, then fewer nodes, then the smaller id."""
    return sorted(ids, key=lambda genome_id: _sort_key(genome_id, fitness, genomes))


def elites(
    ids: Iterable[str], fitness: Mapping[str, float], genomes: Mapping[str, Genome], n: int = ELITISM
) -> list[str]:
    """The n best genomes, which go to the next generation unchanged."""
    return rank(ids, fitness, genomes)[:n]


def tournament(
    ids: Sequence[str],
    fitness: Mapping[str, float],
    rng: random.Random,
    k: int = TOURNAMENT_SIZE,
    genomes: Mapping[str, Genome] | None = None,
) -> str:
    """The fittest of k distinct genomes drawn at random (all of them if there are fewer).

    With `genomes`, ties are broken as in `rank`; without, by the smaller id.
    """
    entrants = rng.sample(list(ids), min(k, len(ids)))
    if genomes is not None:
        return rank(entrants, fitness, genomes)[0]
    return min(entrants, key=lambda genome_id: (-fitness[genome_id], genome_id))


def breed(
    population: Mapping[str, Genome],
    raw_fitness: Mapping[str, float],
    species: Iterable[Species],
    rng: random.Random,
    ctx: MutationContext,
    size: int = POPULATION_SIZE,
    elitism: int = ELITISM,
    parsimony: float = PARSIMONY,
) -> list[Genome]:
    """The next generation: the elites unchanged, then children of tournament winners.

    The top `elitism` genomes by adjusted fitness (not shared) come first, as the very
    same genome objects. Each remaining slot takes two tournament winners on shared
    fitness (the same genome may win both; its child is then a copy before
    mutation), crosses them with the one of higher adjusted fitness as the fitter
    parent, and mutates the child. A child's description records its parents and
    the operators that fired.
    """
    ids = list(population)
    missing = [genome_id for genome_id in ids if genome_id not in raw_fitness]
    if missing:
        raise ValueError(f"no fitness for genomes {missing}")
    adjusted = {
        genome_id: fitness_with_parsimony(raw_fitness[genome_id], population[genome_id], parsimony)
        for genome_id in ids
    }
    shared = shared_fitness(adjusted, species)

    next_generation = [population[genome_id] for genome_id in elites(ids, adjusted, population, elitism)]
    while len(next_generation) < size:
        parents = [tournament(ids, shared, rng, genomes=population) for _ in range(2)]
        fitter, weaker = rank(parents, adjusted, population)
        child, fired = mutate(crossover(population[fitter], population[weaker], rng), rng, ctx)
        mutations = ", ".join(fired) or "none"
        description = f"child of {fitter} (fitter) and {weaker}; mutations: {mutations}"
        next_generation.append(child.model_copy(update={"description": description}))
    return next_generation
