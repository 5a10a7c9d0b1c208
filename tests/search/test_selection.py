"""Parsimony, fitness sharing, ranking, tournaments, elitism and breeding (paper §3.2)."""

from __future__ import annotations

import itertools
import random

import pytest

from fof_inspect.genome import Genome
from fof_inspect.search.mutation import random_genome
from fof_inspect.search.selection import (
    PARSIMONY,
    breed,
    elites,
    fitness_with_parsimony,
    rank,
    shared_fitness,
    tournament,
)
from fof_inspect.search.speciation import Species, speciate
from support.genomes import context, genome, stage, valid


def test_parsimony_costs_0_02_per_node() -> None:
    three = genome(stage(0))
    five = genome(stage(0), stage(1))
    assert (three.node_count, five.node_count) == (3, 5)
    assert PARSIMONY == 0.02
    assert fitness_with_parsimony(20, three) == pytest.approx(19.94)
    assert fitness_with_parsimony(20, five) == pytest.approx(19.90)
    assert fitness_with_parsimony(20, five, parsimony=0.0) == 20


def test_shared_fitness_divides_by_species_size() -> None:
    species = [Species(1, genome(stage(0)), ["a", "b", "c", "d"]), Species(2, genome(stage(0)), ["e"])]
    shared = shared_fitness({"a": 20.0, "b": 16.0, "c": 8.0, "d": -0.06, "e": 10.0}, species)
    assert shared == pytest.approx({"a": 5.0, "b": 4.0, "c": 2.0, "d": 0.0, "e": 10.0})
    with pytest.raises(ValueError, match="no species"):
        shared_fitness({"z": 1.0}, species)


def test_rank_breaks_ties_towards_fewer_iterations_then_fewer_nodes_then_id() -> None:
    genomes = {
        "many_iterations": genome(stage(0, iterations=3)),
        "few_iterations": genome(stage(0, iterations=1)),
        "few_iterations_more_nodes": genome(stage(0, iterations=1, analyzer=True)),
        "best": genome(stage(0, iterations=3), stage(1, iterations=3)),
        "b_twin": genome(stage(0, iterations=2)),
        "a_twin": genome(stage(0, iterations=2)),
    }
    fitness = {name: 10.0 for name in genomes} | {"best": 11.0}
    assert rank(genomes, fitness, genomes) == [
        "best",
        "few_iterations",
        "few_iterations_more_nodes",
        "a_twin",
        "b_twin",
        "many_iterations",
    ]
    assert elites(genomes, fitness, genomes) == ["best", "few_iterations"]
    assert elites(genomes, fitness, genomes, n=1) == ["best"]


def test_tournament_takes_the_best_of_three_random_genomes() -> None:
    ids = [f"g{i}" for i in range(20)]
    fitness = {genome_id: float(i) for i, genome_id in enumerate(ids)}
    wins = set()
    for seed in range(500):
        entrants = random.Random(seed).sample(ids, 3)
        winner = tournament(ids, fitness, random.Random(seed))
        assert winner == max(entrants, key=fitness.__getitem__)
        wins.add(winner)
    assert {"g0", "g1"}.isdisjoint(wins)  # the two worst can never be best of three
    assert tournament(ids[:2], fitness, random.Random(0)) == "g1"  # fewer than k: all compete


def test_tournament_ties_prefer_fewer_iterations() -> None:
    genomes = {"slow": genome(stage(0, iterations=3)), "fast": genome(stage(0)), "x": genome(stage(0))}
    fitness = {"slow": 5.0, "fast": 5.0, "x": 1.0}
    assert all(tournament(list(genomes), fitness, random.Random(s), genomes=genomes) == "fast" for s in range(20))


def population_with_species(seed: int) -> tuple[dict[str, Genome], list[Species]]:
    rng = random.Random(seed)
    population = {f"g{i:02d}": random_genome(rng, context(counter=0)) for i in range(20)}
    return population, speciate(population, [], 1.0, itertools.count().__next__)


def test_elites_come_first_unchanged_chosen_by_parsimony_not_by_sharing() -> None:
    population, _ = population_with_species(0)
    population["big"] = genome(stage(0, analyzer=True), stage(1, analyzer=True))  # 7 nodes
    population["small"] = genome(stage(0))  # 3 nodes
    raw = {genome_id: 5.0 for genome_id in population} | {"big": 20.0, "small": 20.0}
    # "small" sits in a crowded species: sharing would rank it low, elitism must not care.
    crowd = [genome_id for genome_id in population if genome_id != "big"]
    species = [Species(1, population["small"], crowd), Species(2, population["big"], ["big"])]
    rng = random.Random(1)
    next_generation = breed(population, raw, species, rng, context())
    assert len(next_generation) == 20
    assert next_generation[0] is population["small"] and next_generation[1] is population["big"]


def test_breed_fills_the_rest_with_mutated_children_of_tournament_winners() -> None:
    population, species = population_with_species(3)
    raw = {genome_id: float(i % 7) for i, genome_id in enumerate(population)}
    next_generation = breed(population, raw, species, random.Random(5), context(), size=20, elitism=2)
    assert len(next_generation) == 20
    children = next_generation[2:]
    assert all(valid(child) for child in children)
    assert all(child.description.startswith("child of ") for child in children)
    assert all("mutations: " in child.description for child in children)
    for child in children:
        words = child.description.replace(";", "").split()
        fitter, weaker = words[2], words[5]
        adjusted = [fitness_with_parsimony(raw[p], population[p]) for p in (fitter, weaker)]
        assert adjusted[0] >= adjusted[1]
    # Parents are tournament winners: the worst genome (fitness 0, shared 0) wins only
    # tournaments where every entrant scored 0.
    zero = {genome_id for genome_id, f in raw.items() if f == 0}
    fitters = [child.description.split()[2] for child in children]
    assert sum(fitter in zero for fitter in fitters) < len(fitters) / 4


def test_breed_is_reproducible_and_checks_its_inputs() -> None:
    population, species = population_with_species(4)
    raw = {genome_id: float(len(genome_id)) for genome_id in population}
    runs = [breed(population, raw, species, random.Random(9), context(counter=0)) for _ in range(2)]
    assert runs[0] == runs[1]
    with pytest.raises(ValueError, match="no fitness"):
        breed(population, {}, species, random.Random(0), context())
