"""Species: compatibility distance, NEAT-style grouping, and the adaptive threshold (paper §3.2).

Fitness is later shared within a species (`selection.shared_fitness`) so that one
topology cannot crowd the others out of a 20-genome population.

Compatibility compares genomes node by node: the generators with each other, and
for stages aligned by innovation number (as crossover aligns them) the refiners,
the analyzers (when both stages have one) and the iteration counts. Only matching
stages contribute mismatches; a stage that only one genome has is counted through
the stage-count and analyzer-count differences alone, because it has no counterpart
to mismatch against.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fof_inspect.genome import Genome, NodeGene

__all__ = [
    "WEIGHTS",
    "SPECIES_RANGE",
    "compatibility_terms",
    "compatibility",
    "Species",
    "speciate",
    "adapt_threshold",
]

WEIGHTS: dict[str, float] = {
    "stage_count": 1.0,
    "analyzer_count": 0.5,
    "model_mismatches": 0.4,
    "prompt_mismatches": 0.2,
    "temperature_diff": 0.1,
    "iteration_diff": 0.1,
}
"""The paper's weights: topology matters most."""

SPECIES_RANGE = (3, 5)
"""How many species the adaptive threshold aims for."""


def _analyzers(genome: Genome) -> int:
    return sum(stage.analyzer is not None for stage in genome.stages)


def compatibility_terms(a: Genome, b: Genome) -> dict[str, float]:
    """The unweighted differences that `compatibility` weighs (keys as in WEIGHTS)."""
    pairs: list[tuple[NodeGene, NodeGene]] = [(a.generator, b.generator)]
    iteration_diff = 0
    b_stages = {stage.innovation: stage for stage in b.stages}
    for stage in a.stages:
        match = b_stages.get(stage.innovation)
        if match is None:
            continue
        pairs.append((stage.refiner, match.refiner))
        if stage.analyzer is not None and match.analyzer is not None:
            pairs.append((stage.analyzer, match.analyzer))
        iteration_diff += abs(stage.max_iterations - match.max_iterations)
    return {
        "stage_count": abs(len(a.stages) - len(b.stages)),
        "analyzer_count": abs(_analyzers(a) - _analyzers(b)),
        "model_mismatches": sum(x.model != y.model for x, y in pairs),
        "prompt_mismatches": sum(x.prompt != y.prompt for x, y in pairs),
        "temperature_diff": sum(abs(x.temperature - y.temperature) for x, y in pairs),
        "iteration_diff": iteration_diff,
    }


def compatibility(a: Genome, b: Genome) -> float:
    """Compatibility distance: 0 for identical genomes, larger the more they differ."""
    terms = compatibility_terms(a, b)
    return sum(WEIGHTS[name] * value for name, value in terms.items())


@dataclass
class Species:
    """A group of mutually compatible genomes, judged against one representative.

    Also the checkpoint's record of a species (pydantic validates and dumps dataclasses).
    """

    id: int
    representative: Genome
    members: list[str] = field(default_factory=list)
    """Genome ids of this generation's members."""


def speciate(
    genomes: Mapping[str, Genome],
    previous: list[Species],
    threshold: float,
    next_species_id: Callable[[], int],
) -> list[Species]:
    """Group this generation's genomes into species, classic NEAT style.

    Each genome joins the first species (previous generation's, in order, then new
    ones) whose representative is closer than `threshold`; otherwise it founds a new
    species, numbered by `next_species_id()` (e.g. `InnovationCounter().next` kept
    for species ids). Species left empty die out. For the next generation each
    species is represented by its member closest to its old representative, so a
    species drifts with its members instead of being tied to a long-gone genome.
    `previous` is not modified.
    """
    candidates = [Species(s.id, s.representative) for s in previous]
    for genome_id, genome in genomes.items():
        home = next((s for s in candidates if compatibility(genome, s.representative) < threshold), None)
        if home is None:
            home = Species(next_species_id(), genome)
            candidates.append(home)
        home.members.append(genome_id)

    species: list[Species] = []
    for s in candidates:
        if s.members:
            closest = min(s.members, key=lambda m: compatibility(genomes[m], s.representative))
            species.append(Species(s.id, genomes[closest], s.members))
    return species


def adapt_threshold(
    threshold: float,
    n_species: int,
    low: int = SPECIES_RANGE[0],
    high: int = SPECIES_RANGE[1],
    step: float = 0.3,
    minimum: float = 0.1,
) -> float:
    """Next generation's threshold: lower it when there are too few species, raise it when too many.

    Distances are of order 1 (a whole stage counts 1.0, a model mismatch 0.4), so a
    step of 0.3 moves a node or two across the boundary per generation. The minimum
    keeps the threshold positive, so identical genomes always share a species.
    """
    if n_species < low:
        return max(threshold - step, minimum)
    if n_species > high:
        return threshold + step
    return threshold
