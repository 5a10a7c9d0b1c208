"""Compatibility distance, NEAT speciation and the adaptive threshold (paper §3.2)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

import pytest

from fof_inspect.genome import Genome
from fof_inspect.search.mutation import mutate, random_genome
from fof_inspect.search.speciation import Species, adapt_threshold, compatibility, compatibility_terms, speciate
from support.genomes import MODELS, context, genome, stage


def ids(start: int = 0) -> Callable[[], int]:
    return itertools.count(start).__next__


# -- compatibility ---------------------------------------------------------------------------


def test_identical_genomes_are_at_distance_zero() -> None:
    g = genome(stage(0, analyzer=True), stage(3))
    assert compatibility(g, g.model_copy(deep=True)) == 0


def test_each_extra_stage_weighs_1_and_each_extra_analyzer_0_5() -> None:
    base = genome(stage(0))
    assert compatibility(base, genome(stage(0), stage(1))) == pytest.approx(1.0)
    assert compatibility(base, genome(stage(0), stage(1), stage(2))) == pytest.approx(2.0)
    # An analyzer in a matching stage: only the count differs, it has no counterpart to compare.
    assert compatibility(base, genome(stage(0, analyzer=True))) == pytest.approx(0.5)
    # An extra stage with an analyzer: 1.0 + 0.5.
    assert compatibility(base, genome(stage(0), stage(1, analyzer=True))) == pytest.approx(1.5)


def test_node_differences_weigh_model_0_4_prompt_0_2_temperature_and_iterations_0_1() -> None:
    def variant(
        iterations: int = 1, model: str = MODELS[0], prompt: str = "plain", temperature: float = 0.2
    ) -> Genome:
        return genome(stage(0, iterations=iterations), model=model, prompt=prompt, temperature=temperature)

    a = variant()
    assert compatibility(a, variant(model=MODELS[1])) == pytest.approx(0.4)
    assert compatibility(a, variant(prompt="careful")) == pytest.approx(0.2)
    assert compatibility(a, variant(temperature=0.7)) == pytest.approx(0.05)
    assert compatibility(a, variant(iterations=3)) == pytest.approx(0.2)


def test_terms_add_up_over_generator_refiners_and_matching_analyzers() -> None:
    a = genome(stage(0, 1, analyzer=True, model=MODELS[0], prompt="fix", temperature=0.3), model=MODELS[0])
    b_stage = stage(0, 2, analyzer=True, model=MODELS[1], prompt="rewrite", temperature=0.5)
    b = genome(b_stage, model=MODELS[1], prompt="careful")
    terms = compatibility_terms(a, b)
    # generator: model + prompt; refiner: model + prompt + 0.2 temperature; analyzer: model + 0.2 temperature
    # (both analyzers use "diagnose"); the generator temperatures agree (0.5).
    assert terms == pytest.approx({
        "stage_count": 0,
        "analyzer_count": 0,
        "model_mismatches": 3,
        "prompt_mismatches": 2,
        "temperature_diff": 0.4,
        "iteration_diff": 1,
    })
    assert compatibility(a, b) == pytest.approx(3 * 0.4 + 2 * 0.2 + 0.4 * 0.1 + 1 * 0.1)
    assert compatibility(b, a) == pytest.approx(compatibility(a, b))


def test_only_stages_with_the_same_innovation_number_are_compared() -> None:
    a = genome(stage(0, model=MODELS[0], prompt="fix"))
    b = genome(stage(5, model=MODELS[1], prompt="rewrite", iterations=3))
    # Same stage count, no matching stage: the differing refiners are never compared.
    assert compatibility(a, b) == 0


# -- speciate ---------------------------------------------------------------------------------


def test_genomes_join_the_first_compatible_species_else_found_one() -> None:
    one = genome(stage(0))
    population = {
        "a": one,
        "b": one.model_copy(deep=True),
        "c": genome(stage(0), stage(1), stage(2)),  # 2.0 away
        "d": genome(stage(0), model=MODELS[0]),  # 0.4 away
    }
    species = speciate(population, [], threshold=0.5, next_species_id=ids(1))
    assert [(s.id, s.members) for s in species] == [(1, ["a", "b", "d"]), (2, ["c"])]
    assert [(s.id, s.members) for s in speciate(population, [], 0.3, ids(1))] == [
        (1, ["a", "b"]),
        (2, ["c"]),
        (3, ["d"]),
    ]


def test_previous_species_keep_their_ids_and_empty_ones_die_out() -> None:
    one, three = genome(stage(0)), genome(stage(0), stage(1), stage(2))
    previous = [
        Species(7, three, ["old1"]),
        Species(8, genome(stage(0), stage(4)), ["old2"]),
        Species(9, one, ["old3"]),
    ]
    species = speciate({"x": one, "y": three}, previous, 0.5, ids(10))
    assert [(s.id, s.members) for s in species] == [(7, ["y"]), (9, ["x"])]
    assert previous[0].members == ["old1"]  # previous generation untouched


def test_representative_moves_to_the_member_closest_to_the_old_one() -> None:
    old = genome(stage(0), temperature=0.5)
    near, far = genome(stage(0), temperature=0.6), genome(stage(0), temperature=1.0)
    (species,) = speciate({"far": far, "near": near}, [Species(1, old, ["gone"])], 1.0, ids(2))
    assert species.members == ["far", "near"] and species.representative == near


def test_threshold_adapts_both_ways_and_stays_positive() -> None:
    assert adapt_threshold(1.0, 2) == pytest.approx(0.7)
    assert adapt_threshold(1.0, 6) == pytest.approx(1.3)
    assert all(adapt_threshold(1.0, n) == 1.0 for n in (3, 4, 5))
    assert adapt_threshold(0.2, 1) == pytest.approx(0.1)
    assert adapt_threshold(0.1, 1, minimum=0.1) == pytest.approx(0.1)
    assert adapt_threshold(1.0, 2, step=0.5, low=4) == pytest.approx(0.5)


def spread_population(seed: int) -> dict[str, Genome]:
    """20 varied genomes: random initial genomes, each mutated a few times."""
    rng = random.Random(seed)
    ctx = context(counter=0)
    population = {}
    for i in range(20):
        g = random_genome(rng, ctx)
        for _ in range(5):
            g, _ = mutate(g, rng, ctx)
        population[f"g{i:02d}"] = g
    return population


@pytest.mark.parametrize("start", [0.3, 1.0, 3.0])
@pytest.mark.parametrize("seed", range(4))
def test_adaptive_threshold_settles_on_3_to_5_species(seed: int, start: float) -> None:
    population = spread_population(seed)
    threshold, species, counts = start, [], []
    next_id = ids()
    for _ in range(12):
        species = speciate(population, species, threshold, next_id)
        counts.append(len(species))
        assert sorted(m for s in species for m in s.members) == sorted(population)
        threshold = adapt_threshold(threshold, len(species))
    assert all(3 <= n <= 5 for n in counts[7:]), counts
