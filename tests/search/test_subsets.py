"""Per-generation problem subsets: baseline pass rates, difficulty-balanced columns, rotation."""

from __future__ import annotations

import random
import warnings
from pathlib import Path
from statistics import fmean

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver

from fof_inspect.search.subsets import difficulty_columns, generation_problems, pass_rates_from_log

HUMANEVAL = [f"HumanEval/{i}" for i in range(164)]


def humaneval_pass_rates(seed: int = 0) -> dict[str, float]:
    """A solo-like baseline over 5 epochs: many easy problems, a hard tail."""
    rng = random.Random(seed)
    return {problem: round(rng.betavariate(1.5, 0.8) * 5) / 5 for problem in HUMANEVAL}


# -- pass rates from an Inspect log ------------------------------------------------------------

PASSES = {("HumanEval/0", 1), ("HumanEval/0", 2), ("HumanEval/1", 2)}


@solver
def no_model() -> Solver:
    """Skip generation: the test is about the log, and offline token counting would fail."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        return state

    return solve


@scorer(metrics=[accuracy()])
def pass_at_1() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        return Score(value=CORRECT if (state.sample_id, state.epoch) in PASSES else INCORRECT)

    return score


@pytest.fixture(scope="module")
def baseline_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    samples = [Sample(id=f"HumanEval/{i}", input="write it", target="") for i in range(3)]
    task = Task(dataset=samples, solver=no_model(), scorer=pass_at_1(), epochs=2)
    (log,) = eval(task, model="mockllm/model", log_dir=str(tmp_path_factory.mktemp("logs")), display="none")
    assert log.status == "success"
    return Path(log.location)


def test_pass_rates_are_averaged_over_epochs_per_sample_id(baseline_log: Path) -> None:
    assert pass_rates_from_log(baseline_log) == {"HumanEval/0": 1.0, "HumanEval/1": 0.5, "HumanEval/2": 0.0}


def test_a_log_without_the_score_is_an_error_naming_what_it_has(baseline_log: Path) -> None:
    with pytest.raises(ValueError, match="no 'pass@k' scores.*found: pass_at_1"):
        pass_rates_from_log(baseline_log, score_name="pass@k")


# -- difficulty columns -------------------------------------------------------------------------


def test_seven_columns_of_25_distinct_problems_using_every_problem() -> None:
    columns = difficulty_columns(HUMANEVAL, humaneval_pass_rates(), random.Random(0))
    assert len(columns) == 7 and all(len(column) == 25 for column in columns)
    assert all(len(set(column)) == 25 for column in columns)
    used = [problem for column in columns for problem in column]
    assert set(used) == set(HUMANEVAL)
    assert len(used) - len(set(used)) == 7 * 25 - 164  # 11 repeats, no more
    assert max(used.count(problem) for problem in HUMANEVAL) == 2


def column_means(columns: list[list[str]], rates: dict[str, float]) -> list[float]:
    return [fmean(rates[problem] for problem in column) for column in columns]


def test_columns_are_balanced_and_each_spans_easy_to_hard() -> None:
    rates = humaneval_pass_rates()
    columns = difficulty_columns(HUMANEVAL, rates, random.Random(1))
    means = column_means(columns, rates)
    assert max(means) - min(means) < 0.03
    assert all(abs(mean - fmean(rates.values())) < 0.02 for mean in means)
    for column in columns:
        column_rates = [rates[problem] for problem in column]
        assert column_rates == sorted(column_rates, reverse=True)
        assert column_rates[0] == 1.0 and column_rates[-1] <= 0.2
    # Stratification matters: random 25-problem subsets are far less even.
    rng = random.Random(1)
    random_means = [fmean(rates[p] for p in rng.sample(HUMANEVAL, 25)) for _ in range(7)]
    assert max(random_means) - min(random_means) > 2 * (max(means) - min(means))


def test_same_seed_same_columns() -> None:
    rates = humaneval_pass_rates()
    first, again, other = (difficulty_columns(HUMANEVAL, rates, random.Random(seed)) for seed in (3, 3, 4))
    assert first == again
    assert first != other


def test_without_a_baseline_columns_are_random_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="no baseline pass rates"):
        columns = difficulty_columns(HUMANEVAL, None, random.Random(0))
    assert len(columns) == 7 and all(len(set(column)) == 25 for column in columns)
    assert {problem for column in columns for problem in column} == set(HUMANEVAL)


def test_problems_missing_from_the_baseline_count_as_average_with_a_warning() -> None:
    rates = humaneval_pass_rates()
    del rates["HumanEval/7"], rates["HumanEval/8"]
    with pytest.warns(UserWarning, match="2 problems have no baseline pass rate"):
        columns = difficulty_columns(HUMANEVAL, rates, random.Random(0))
    assert {problem for column in columns for problem in column} == set(HUMANEVAL)
    with pytest.raises(ValueError, match="cover none"):
        difficulty_columns(HUMANEVAL, {"Mbpp/2": 1.0}, random.Random(0))


def test_more_problems_than_slots_uses_each_at_most_once() -> None:
    mbpp = [f"Mbpp/{i}" for i in range(427)]
    rates = {problem: (i % 10) / 10 for i, problem in enumerate(mbpp)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        columns = difficulty_columns(mbpp, rates, random.Random(0))
    used = [problem for column in columns for problem in column]
    assert len(used) == len(set(used)) == 175
    means = column_means(columns, rates)
    assert max(means) - min(means) < 0.05


def test_too_few_problems_for_one_column_is_an_error() -> None:
    with pytest.raises(ValueError, match="needs 25 different problems"):
        difficulty_columns(HUMANEVAL[:24], None, random.Random(0))


def test_generations_rotate_through_the_columns() -> None:
    columns = difficulty_columns(HUMANEVAL, humaneval_pass_rates(), random.Random(0))
    assert [generation_problems(columns, g) for g in range(7)] == columns
    assert generation_problems(columns, 7) == columns[0]
    assert generation_problems(columns, 9) == columns[2]
    generation_problems(columns, 0).append("x")  # a copy: the columns stay intact
    assert len(columns[0]) == 25
