"""Mutation operators, their rates, random genomes and innovation numbers (paper §3.2)."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from fof_inspect.genome import Genome, NodeGene
from fof_inspect.search.innovation import FIRST_STAGE_INNOVATION, InnovationCounter
from fof_inspect.search.mutation import (
    RATES,
    TEMPERATURE_RANGE,
    MutationContext,
    add_analyzer,
    add_refine_stage,
    adjust_iterations,
    adjust_temperature,
    mutate,
    mutate_prompt,
    random_genome,
    remove_node,
    swap_model,
)
from fof_inspect.prompts import prompt_names
from support.genomes import MODELS, TRIALS, context, genome, stage, valid, within

# -- innovation numbers --------------------------------------------------------------------


def test_innovation_counter_hands_out_fresh_numbers_and_resume_from_the_saved_value() -> None:
    counter = InnovationCounter()
    assert counter.value == FIRST_STAGE_INNOVATION
    assert [counter.next(), counter.next()] == [1, 2]
    assert counter.value == 2
    resumed = InnovationCounter(counter.value)
    assert resumed.value == counter.value and resumed.next() == 3
    with pytest.raises(ValueError):
        InnovationCounter(-1)


# -- structural operators ------------------------------------------------------------------


def test_add_refine_stage_appends_executor_refiner_with_new_innovation() -> None:
    parent = genome(stage(0, iterations=3, analyzer=True))
    ctx = context(counter=7)
    child = add_refine_stage(parent, random.Random(0), ctx)
    assert child is not None
    assert [s.innovation for s in child.stages] == [0, 8]
    new = child.stages[-1]
    assert new.analyzer is None and new.max_iterations == 1
    assert new.refiner.model in MODELS and new.refiner.prompt in prompt_names("refiner")
    assert TEMPERATURE_RANGE[0] <= new.refiner.temperature <= TEMPERATURE_RANGE[1]
    assert child.node_count == parent.node_count + 2
    assert child.stages[0] == parent.stages[0]
    assert len(parent.stages) == 1  # the parent is untouched


def test_add_refine_stage_blocked_at_three_stages_and_at_node_limit() -> None:
    ctx = context()
    assert add_refine_stage(genome(stage(0), stage(1), stage(2)), random.Random(0), ctx) is None
    full = genome(stage(0, analyzer=True), stage(1, analyzer=True))  # 7 nodes, +2 would be 9
    assert add_refine_stage(full, random.Random(0), ctx) is None
    assert ctx.innovation.value == 10  # blocked operators use up no innovation number


def test_add_analyzer_inserts_into_a_random_stage() -> None:
    parent = genome(stage(0), stage(1))
    hit = Counter()
    for seed in range(200):
        child = add_analyzer(parent, random.Random(seed), context())
        assert child is not None and child.node_count == parent.node_count + 1
        (index,) = [i for i, s in enumerate(child.stages) if s.analyzer is not None]
        assert child.stages[index].analyzer.prompt in prompt_names("analyzer")
        hit[index] += 1
    assert hit[0] > 60 and hit[1] > 60


def test_add_analyzer_blocked_when_the_chosen_stage_has_one_or_at_node_limit() -> None:
    assert add_analyzer(genome(stage(0, analyzer=True)), random.Random(0), context()) is None
    # The paper picks a random stage and is blocked if *that* stage has one: about half the time here.
    half = genome(stage(0, analyzer=True), stage(1))
    blocked = sum(add_analyzer(half, random.Random(seed), context()) is None for seed in range(TRIALS))
    assert within(blocked, TRIALS, 0.5)
    eight = genome(stage(0, analyzer=True), stage(1), stage(2))  # 8 nodes
    assert all(add_analyzer(eight, random.Random(seed), context()) is None for seed in range(50))


def test_remove_node_prefers_an_analyzer_60_percent_else_the_last_stage() -> None:
    parent = genome(stage(0, analyzer=True), stage(1))
    outcome = Counter()
    for seed in range(TRIALS):
        child = remove_node(parent, random.Random(seed), context())
        assert child is not None
        if len(child.stages) == 1:
            assert child.stages[0] == parent.stages[0]  # the whole last stage went
            outcome["last stage"] += 1
        else:
            assert all(s.analyzer is None for s in child.stages)
            outcome["analyzer"] += 1
    assert within(outcome["analyzer"], TRIALS, 0.6)


def test_remove_node_fallbacks_follow_the_paper() -> None:
    ctx = context()
    for seed in range(100):
        rng = random.Random(seed)
        # No analyzer, 2 stages: always the last stage.
        assert [s.innovation for s in remove_node(genome(stage(0), stage(1)), rng, ctx).stages] == [0]
        # One stage with an analyzer: always that analyzer, never the stage.
        only = remove_node(genome(stage(0, analyzer=True)), rng, ctx)
        assert len(only.stages) == 1 and only.stages[0].analyzer is None
        # One stage, no analyzer: nothing to remove.
        assert remove_node(genome(stage(0)), rng, ctx) is None


def test_remove_node_last_stage_takes_its_analyzer_along() -> None:
    parent = genome(stage(0), stage(1), stage(2, analyzer=True))
    shapes = Counter()
    for seed in range(400):
        child = remove_node(parent, random.Random(seed), context())
        shapes[(len(child.stages), child.node_count)] += 1
    assert set(shapes) == {(3, 7), (2, 5)}  # analyzer alone, or the whole last stage


# -- configuration operators -----------------------------------------------------------------


def differing_nodes(a: Genome, b: Genome) -> list[tuple[str, NodeGene, NodeGene]]:
    return [(kind, x, y) for (kind, x), (_, y) in zip(a.llm_nodes(), b.llm_nodes()) if x != y]


def test_swap_model_gives_one_node_another_pool_model() -> None:
    parent = genome(stage(0, analyzer=True), model=MODELS[0])
    kinds = Counter()
    for seed in range(300):
        child = swap_model(parent, random.Random(seed), context())
        ((kind, before, after),) = differing_nodes(parent, child)
        assert after.model in MODELS and after.model != before.model
        assert after.model_copy(update={"model": before.model}) == before
        kinds[kind] += 1
    assert set(kinds) == {"generator", "analyzer", "refiner"}


def test_swap_model_blocked_when_the_pool_has_no_other_model() -> None:
    parent = genome(stage(0), model=MODELS[2])
    assert swap_model(parent, random.Random(0), context(models=[MODELS[2]])) is None
    assert swap_model(parent, random.Random(0), context(models=[MODELS[0]])).models() >= {MODELS[0]}


def test_mutate_prompt_picks_from_the_node_types_pool_and_may_repick() -> None:
    parent = genome(stage(0, analyzer=True))
    unchanged = 0
    for seed in range(TRIALS):
        child = mutate_prompt(parent, random.Random(seed), context())
        assert child is not None
        diff = differing_nodes(parent, child)
        if not diff:
            unchanged += 1
            continue
        ((kind, before, after),) = diff
        assert after.prompt in prompt_names(kind) and after.prompt != before.prompt
    # Node picked uniformly among 3; a same-prompt re-pick has chance 1/3, 1/2, 1/3.
    p_same = sum(1 / len(prompt_names(kind)) for kind in ("generator", "analyzer", "refiner")) / 3
    assert within(unchanged, TRIALS, p_same)


def test_adjust_temperature_is_gaussian_jitter_with_sigma_0_08_and_clipped() -> None:
    parent = genome(stage(0), temperature=0.6)
    deltas = []
    for seed in range(TRIALS):
        child = adjust_temperature(parent, random.Random(seed), context())
        diff = differing_nodes(parent, child)
        deltas += [after.temperature - before.temperature for _, before, after in diff]
    mean = sum(deltas) / len(deltas)
    sd = math.sqrt(sum((d - mean) ** 2 for d in deltas) / len(deltas))
    assert abs(mean) < 0.005 and abs(sd - 0.08) < 0.005
    for start in (0.0, 0.05, 1.2, 2.0):
        hot = genome(stage(0), temperature=start)
        for seed in range(200):
            child = adjust_temperature(hot, random.Random(seed), context())
            changed = [after.temperature for _, _, after in differing_nodes(hot, child)]
            assert all(TEMPERATURE_RANGE[0] <= t <= TEMPERATURE_RANGE[1] for t in changed)


def test_adjust_iterations_decreases_60_percent_and_clamps_to_1_3() -> None:
    parent = genome(stage(0, iterations=2), stage(1, iterations=2))
    down = 0
    for seed in range(TRIALS):
        child = adjust_iterations(parent, random.Random(seed), context())
        changed = [(a.max_iterations, b.max_iterations) for a, b in zip(parent.stages, child.stages) if a != b]
        assert len(changed) == 1 and abs(changed[0][0] - changed[0][1]) == 1
        down += changed[0][1] < changed[0][0]
    assert within(down, TRIALS, 0.6)
    ends = {
        adjust_iterations(genome(stage(0, iterations=i)), random.Random(seed), context()).stages[0].max_iterations
        for i in (1, 3)
        for seed in range(100)
    }
    assert ends == {1, 2, 3}


# -- mutate: rates, independence, validity, reproducibility ---------------------------------


def test_each_operator_fires_at_the_papers_rate_independently() -> None:
    # Two plain stages: no operator is ever blocked on this genome.
    parent = genome(stage(0), stage(1))
    rng = random.Random(2026)
    ctx = context()
    fired = Counter()
    pairs = Counter()
    several = 0
    for _ in range(TRIALS):
        _, names = mutate(parent, rng, ctx)
        fired.update(names)
        pairs.update((a, b) for a in names for b in names if a < b)
        several += len(names) >= 2
    for name, rate in RATES.items():
        assert within(fired[name], TRIALS, rate), (name, fired[name] / TRIALS, rate)
    assert within(pairs["mutate_prompt", "swap_model"], TRIALS, RATES["swap_model"] * RATES["mutate_prompt"])
    p_none = math.prod(1 - rate for rate in RATES.values())
    p_one = sum(rate * p_none / (1 - rate) for rate in RATES.values())
    assert within(several, TRIALS, 1 - p_none - p_one)


def test_mutate_reports_only_operators_that_were_not_blocked() -> None:
    parent = genome(stage(0))  # one plain stage: remove_node is always blocked
    child, names = mutate(parent, random.Random(0), context(remove_node=1.0))
    assert names == [] and child is parent


def test_later_operators_see_what_earlier_ones_built() -> None:
    ctx = context(add_refine_stage=1.0, add_analyzer=1.0)
    child, names = mutate(genome(stage(0)), random.Random(3), ctx)
    assert names[0] == "add_refine_stage" and len(child.stages) == 2


def test_mutation_never_produces_an_invalid_genome_and_keeps_parents_intact() -> None:
    rng = random.Random(7)
    ctx = context(counter=0)
    population = [random_genome(rng, ctx) for _ in range(20)]
    snapshot = [g.model_dump() for g in population]
    for _ in range(100):
        for i, parent in enumerate(population):
            child, names = mutate(parent, rng, ctx)
            assert valid(child)
            assert child.name is None or not names
            population[i] = child
    assert [g.model_dump() for g in population] != snapshot
    innovations = [[s.innovation for s in g.stages] for g in population]
    assert all(len(set(inn)) == len(inn) for inn in innovations)


def test_mutate_clears_the_name_of_a_changed_genome() -> None:
    parent = genome(stage(0)).model_copy(update={"name": "self_refine", "description": "x"})
    child, names = mutate(parent, random.Random(0), context(mutate_prompt=1.0))
    assert names == ["mutate_prompt"] and child.name is None and child.description is None
    assert parent.name == "self_refine"


def test_same_seed_same_offspring() -> None:
    def run(seed: int) -> list[tuple[dict, list[str]]]:
        rng = random.Random(seed)
        ctx = context(counter=0)
        g = random_genome(rng, ctx)
        out = []
        for _ in range(50):
            g, names = mutate(g, rng, ctx)
            out.append((g.model_dump(), names))
        return out

    assert run(11) == run(11)
    assert run(11) != run(12)


def test_context_rejects_an_empty_pool_and_unknown_operators() -> None:
    with pytest.raises(ValueError):
        MutationContext(models=[])
    with pytest.raises(ValueError):
        MutationContext(models=MODELS, rates={"add_node": 0.5})


# -- initial population --------------------------------------------------------------------


def test_random_genome_is_one_generator_and_one_aligned_stage() -> None:
    rng = random.Random(1)
    ctx = context(counter=0)
    genomes = [random_genome(rng, ctx) for _ in range(TRIALS)]
    assert all(len(g.stages) == 1 and g.stages[0].innovation == FIRST_STAGE_INNOVATION for g in genomes)
    assert ctx.innovation.value == 0
    assert {g.stages[0].max_iterations for g in genomes} == {1, 2, 3}
    assert within(sum(g.stages[0].analyzer is not None for g in genomes), TRIALS, 0.3)
    nodes = [n for g in genomes for _, n in g.llm_nodes()]
    assert {n.model for n in nodes} == set(MODELS)
    assert all(TEMPERATURE_RANGE[0] <= n.temperature <= TEMPERATURE_RANGE[1] for n in nodes)
    assert {g.generator.prompt for g in genomes} == set(prompt_names("generator"))
