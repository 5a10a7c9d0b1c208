"""Crossover aligns stages by innovation number and inherits whole genes (paper §3.2)."""

from __future__ import annotations

import random
from collections import Counter

from fof_inspect.search.crossover import WEAKER_DISJOINT_P, crossover
from fof_inspect.genome import MAX_NODES, MAX_STAGES, Genome
from support.genomes import MODELS, TRIALS, genome, stage, within


def test_generator_is_a_coin_flip_of_whole_generators() -> None:
    fitter = genome(stage(0), model=MODELS[0], prompt="careful", temperature=0.2)
    weaker = genome(stage(0), model=MODELS[1], prompt="test_first", temperature=0.9)
    from_fitter = 0
    for seed in range(TRIALS):
        child = crossover(fitter, weaker, random.Random(seed))
        assert child.generator in (fitter.generator, weaker.generator)  # never a mix of the two
        from_fitter += child.generator == fitter.generator
    assert within(from_fitter, TRIALS, 0.5)


def test_matching_stages_are_a_coin_flip_of_whole_stages() -> None:
    fitter = genome(stage(0, iterations=3, analyzer=True, model=MODELS[0], prompt="rewrite"))
    weaker = genome(stage(0, iterations=1, model=MODELS[1], prompt="minimal_patch"))
    from_fitter = 0
    for seed in range(TRIALS):
        (inherited,) = crossover(fitter, weaker, random.Random(seed)).stages
        assert inherited in (fitter.stages[0], weaker.stages[0])
        from_fitter += inherited == fitter.stages[0]
    assert within(from_fitter, TRIALS, 0.5)


def test_disjoint_stages_always_from_fitter_and_with_p_0_3_from_weaker() -> None:
    fitter = genome(stage(0), stage(4))
    weaker = genome(stage(0), stage(7, model=MODELS[0]))
    seen = Counter()
    for seed in range(TRIALS):
        innovations = [s.innovation for s in crossover(fitter, weaker, random.Random(seed)).stages]
        assert innovations[:2] == [0, 4]
        seen[tuple(innovations)] += 1
    assert set(seen) == {(0, 4), (0, 4, 7)}
    assert within(seen[0, 4, 7], TRIALS, WEAKER_DISJOINT_P)


def test_stages_are_ordered_by_innovation_number() -> None:
    fitter = genome(stage(0), stage(5))
    weaker = genome(stage(0), stage(2))
    orders = {
        tuple(s.innovation for s in crossover(fitter, weaker, random.Random(seed)).stages) for seed in range(200)
    }
    assert orders == {(0, 5), (0, 2, 5)}


def test_more_than_three_stages_are_cut_after_the_third() -> None:
    fitter = genome(stage(0), stage(2), stage(3))
    weaker = genome(stage(1), stage(5))
    shapes = Counter()
    for seed in range(TRIALS):
        child = crossover(fitter, weaker, random.Random(seed))
        assert len(child.stages) <= MAX_STAGES
        shapes[tuple(s.innovation for s in child.stages)] += 1
    # Weaker stage 1 sorts in before the fitter's 2 and 3, so the fitter's 3 is the one cut.
    assert set(shapes) == {(0, 2, 3), (0, 1, 2)}
    assert within(shapes[0, 1, 2], TRIALS, WEAKER_DISJOINT_P)


def test_trailing_stages_are_dropped_to_stay_within_eight_nodes() -> None:
    fitter = genome(stage(0, analyzer=True), stage(2))  # 6 nodes
    weaker = genome(stage(1, analyzer=True))
    for seed in range(500):
        child = crossover(fitter, weaker, random.Random(seed))
        assert child.node_count <= MAX_NODES
        if 1 in [s.innovation for s in child.stages]:
            # 0(+analyzer), 1(+analyzer), 2 would be 9 nodes: the last stage goes.
            assert [s.innovation for s in child.stages] == [0, 1]


def test_parents_are_untouched_and_the_child_is_anonymous() -> None:
    fitter = genome(stage(0), stage(3)).model_copy(update={"name": "a"})
    weaker = genome(stage(0, analyzer=True), stage(9)).model_copy(update={"name": "b"})
    before = (fitter.model_dump(), weaker.model_dump())
    child = crossover(fitter, weaker, random.Random(1))
    assert (fitter.model_dump(), weaker.model_dump()) == before
    assert child.name is None and child.description is None
    child.stages[0].max_iterations = 3  # no aliasing into the parents
    assert (fitter.model_dump(), weaker.model_dump()) == before


def test_same_seed_same_child() -> None:
    fitter = genome(stage(0), stage(3, analyzer=True), model=MODELS[0])
    weaker = genome(stage(0, iterations=2), stage(5), model=MODELS[1])

    def children(seed: int) -> list[Genome]:
        rng = random.Random(seed)
        return [crossover(fitter, weaker, rng) for _ in range(30)]

    assert children(4) == children(4)
    assert children(4) != children(5)


def test_crossing_a_genome_with_itself_copies_it() -> None:
    parent = genome(stage(0, analyzer=True), stage(3))
    assert crossover(parent, parent, random.Random(0)) == parent
