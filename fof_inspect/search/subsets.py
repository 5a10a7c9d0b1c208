"""The search's per-generation problem subsets: 7 difficulty-balanced columns of 25 (paper §3.2).

The paper evaluates every genome of a generation on the same 25 problems, and in its
later (stratified) runs draws them from 7 difficulty-balanced columns that rotate
across generations, so that fitness is not dominated by easy problems. Difficulty is
a baseline's per-problem pass rate (e.g. a multi-epoch solo eval log).

How the columns are built: problems are sorted from easy to hard and cut into 25
strata of consecutive problems; every column takes exactly one problem from each
stratum, so each column spans easy → hard and the columns' mean difficulties agree.
When there are fewer problems than slots (HumanEval: 164 < 7 × 25), a stratum with
fewer than 7 problems uses all of them and repeats some of its own, so a repeat has
the difficulty of the problem it stands in for, every problem appears in at least one
column and no column holds a problem twice. With more problems than slots (MBPP),
each stratum contributes a random 7 and the rest go unused.

Without a baseline the strata are random, which is the paper's early unstratified regime.
"""

from __future__ import annotations

import random
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from statistics import fmean

from inspect_ai.log import read_eval_log

from fof_inspect.scorers.pass_at_1 import SCORER_NAME, passed

__all__ = [
    "N_COLUMNS",
    "SUBSET_SIZE",
    "pass_rates_from_log",
    "difficulty_columns",
    "generation_problems",
]

N_COLUMNS = 7
SUBSET_SIZE = 25


def pass_rates_from_log(log_path: str | Path, score_name: str = SCORER_NAME) -> dict[str, float]:
    """Each problem's pass rate over the epochs of a baseline eval log, keyed by sample id.

    Samples without that score (e.g. ones that errored) are left out rather than
    counted as failures: an infrastructure error says nothing about difficulty.
    """
    log = read_eval_log(log_path, exclude_fields={"messages", "events", "store", "attachments"})
    outcomes: dict[str, list[float]] = defaultdict(list)
    seen_scores: set[str] = set()
    for sample in log.samples or []:
        for name, score in (sample.scores or {}).items():
            seen_scores.add(name)
            if name.rsplit("/", 1)[-1] == score_name:
                outcomes[str(sample.id)].append(float(passed(score)))
    if not outcomes:
        found = ", ".join(sorted(seen_scores)) or "no scores at all"
        raise ValueError(f"{log_path}: no {score_name!r} scores in this log (found: {found})")
    return {problem: fmean(values) for problem, values in outcomes.items()}


def _easy_to_hard(problems: list[str], pass_rates: Mapping[str, float] | None, rng: random.Random) -> list[str]:
    """Problems by falling pass rate, ties in random order; random order without a baseline."""
    ordered = list(problems)
    rng.shuffle(ordered)
    if pass_rates is None:
        warnings.warn(
            "no baseline pass rates: the problem columns are random, not difficulty-balanced",
            stacklevel=3,
        )
        return ordered
    missing = [problem for problem in problems if problem not in pass_rates]
    known = [pass_rates[problem] for problem in problems if problem in pass_rates]
    if not known:
        raise ValueError("the baseline pass rates cover none of the problems (do the sample ids match?)")
    if missing:
        warnings.warn(
            f"{len(missing)} problems have no baseline pass rate (e.g. {missing[0]}); "
            "they are treated as of average difficulty",
            stacklevel=3,
        )
    average = fmean(known)
    return sorted(ordered, key=lambda problem: -pass_rates.get(problem, average))


def _stratum_picks(stratum: list[str], n: int, rng: random.Random) -> list[str]:
    """n problems of one stratum in random order, each used as evenly as possible."""
    if len(stratum) >= n:
        return rng.sample(stratum, n)
    picks = stratum * (n // len(stratum)) + rng.sample(stratum, n % len(stratum))
    rng.shuffle(picks)
    return picks


def difficulty_columns(
    problem_ids: Sequence[str],
    pass_rates: Mapping[str, float] | None,
    rng: random.Random,
    n_columns: int = N_COLUMNS,
    size: int = SUBSET_SIZE,
) -> list[list[str]]:
    """`n_columns` subsets of `size` problems each, every one spanning easy → hard (see module doc)."""
    problems = list(dict.fromkeys(problem_ids))
    if len(problems) < size:
        raise ValueError(f"a column needs {size} different problems, there are only {len(problems)}")
    ordered = _easy_to_hard(problems, pass_rates, rng)
    n = len(ordered)
    columns: list[list[str]] = [[] for _ in range(n_columns)]
    for s in range(size):
        stratum = ordered[s * n // size : (s + 1) * n // size]
        for column, problem in zip(columns, _stratum_picks(stratum, n_columns, rng)):
            column.append(problem)
    return columns


def generation_problems(columns: Sequence[Sequence[str]], generation: int) -> list[str]:
    """The problems of generation `generation` (counting from 0): column generation mod 7."""
    return list(columns[generation % len(columns)])
