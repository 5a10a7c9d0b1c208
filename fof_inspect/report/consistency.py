"""Consistency and noise (§4.7, §4.8, Table 8): how repeatable one run is.

- Per problem, how many of a configuration's runs passed it: the 0…n histogram separates
  problems that are always or never solved from borderline ones that flip between runs.
- Table 8: the first run (what a single-run evaluation would have reported) against the
  n-run mean; difference = mean − first run, so a negative difference is a lucky first run.
- Problems no configuration solved in any run, with the error types their final code ended in.

The first two need repeated runs (epochs or several logs) of a configuration.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from fof_inspect.report.load import Logs, benchmark_order, benchmark_title
from fof_inspect.report.main_results import summarize
from fof_inspect.report.write import Table

HISTOGRAM_NAME = "consistency_histogram"
HISTOGRAM_TITLE = "Per-problem consistency: problems by number of runs that passed them"
SINGLE_NAME = "single_vs_mean"
SINGLE_TITLE = "Table 8: Single-run result vs n-run mean"
UNSOLVED_NAME = "unsolved"
UNSOLVED_TITLE = "Problems no configuration solved in any run"
ONE_RUN = "every configuration has one run; this needs repeated runs of a configuration (--epochs N, or several logs)."


def histogram(samples: pd.DataFrame, repeated: pd.DataFrame) -> pd.DataFrame:
    """Per configuration and benchmark with ≥ 2 runs: problems passed by exactly k of its n runs."""
    rows = []
    for r in repeated.itertuples():
        group = samples[(samples["config_id"] == r.config_id) & (samples["benchmark"] == r.benchmark)]
        per_problem = Counter(group.groupby("problem")["passed"].sum().astype(int))
        rows += [
            {
                "config_id": r.config_id,
                "config": r.config,
                "benchmark": r.benchmark,
                "runs": r.runs,
                "runs_passed": k,
                "problems": per_problem.get(k, 0),
            }
            for k in range(r.runs + 1)
        ]
    return pd.DataFrame(rows)


def single_vs_mean(repeated: pd.DataFrame) -> pd.DataFrame:
    frame = repeated[
        ["config_id", "config", "benchmark", "problems", "runs", "first_run", "mean", "sd", "min", "max"]
    ].copy()
    frame["difference"] = frame["mean"] - frame["first_run"]
    return frame.reset_index(drop=True)


def unsolved(samples: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Never-passed problems per benchmark with their final error types, and a summary line each."""
    rows, notes = [], []
    for bench in benchmark_order(samples["benchmark"].tolist()):
        group = samples[samples["benchmark"] == bench]
        solved = group.groupby("problem")["passed"].any()
        never = [p for p in solved.index if not solved[p]]
        title = benchmark_title(bench)
        notes.append(f"{title}: {len(never)} of {len(solved)} problems never solved by any configuration in any run.")
        for problem in sorted(never, key=_natural):
            attempts = group[group["problem"] == problem]
            errors = Counter(attempts["error_type"].fillna("unknown"))
            rows.append(
                {
                    "benchmark": bench,
                    "problem": problem,
                    "attempts": len(attempts),
                    "configurations": attempts["config_id"].nunique(),
                    "error_types": ", ".join(f"{e} ×{n}" for e, n in errors.most_common()),
                }
            )
    return pd.DataFrame(rows, columns=["benchmark", "problem", "attempts", "configurations", "error_types"]), notes


def _natural(problem: str) -> tuple:
    """`HumanEval/9` before `HumanEval/10`."""
    head, _, tail = problem.rpartition("/")
    return (head, int(tail)) if tail.isdigit() else (problem, 0)


def build(logs: Logs) -> list[Table]:
    summary = summarize(logs.samples)
    repeated = summary[summary["runs"] > 1]
    single = sorted(set(summary.loc[summary["runs"] < 2, "config_id"]))
    excluded = (
        [f"Configurations with one run (not shown): {', '.join(single)}."] if single and not repeated.empty else []
    )
    never, never_notes = unsolved(logs.samples)
    tables = []
    if repeated.empty:
        tables += [
            Table.absent(HISTOGRAM_NAME, HISTOGRAM_TITLE, ONE_RUN),
            Table.absent(SINGLE_NAME, SINGLE_TITLE, ONE_RUN),
        ]
    else:
        hist = histogram(logs.samples, repeated)
        tables.append(
            Table(HISTOGRAM_NAME, HISTOGRAM_TITLE, frame=hist, display=_histogram_display(hist), notes=excluded)
        )
        table8 = single_vs_mean(repeated)
        tables.append(
            Table(
                SINGLE_NAME,
                SINGLE_TITLE,
                frame=table8,
                display=pd.DataFrame(
                    {
                        "Configuration": table8["config_id"] + " " + table8["config"],
                        "Benchmark": table8["benchmark"].map(benchmark_title),
                        "Single run (first)": table8["first_run"],
                        "n-run mean": [
                            f"{m:.1f} ± {s:.1f} (n={n})"
                            for m, s, n in zip(table8["mean"], table8["sd"], table8["runs"], strict=True)
                        ],
                        "Difference": table8["difference"].map(lambda d: f"{d:+.1f}"),
                        "Range": [f"{lo}–{hi}" for lo, hi in zip(table8["min"], table8["max"], strict=True)],
                    }
                ),
                notes=[
                    "Difference = n-run mean − first run: negative when the single run overstated the configuration.",
                    *excluded,
                ],
            )
        )
    display = never.assign(benchmark=never["benchmark"].map(benchmark_title)).rename(columns=str.capitalize)
    tables.append(
        Table(
            UNSOLVED_NAME,
            UNSOLVED_TITLE,
            frame=never,
            display=display.rename(columns={"Error_types": "Final error types"}),
            notes=never_notes,
        )
    )
    return tables


def _histogram_display(hist: pd.DataFrame) -> pd.DataFrame:
    rows = []
    most = int(hist["runs"].max())
    for (cid, config, bench, runs), group in hist.groupby(["config_id", "config", "benchmark", "runs"], sort=False):
        counts = dict(zip(group["runs_passed"], group["problems"], strict=True))
        row = {"Configuration": f"{cid} {config}", "Benchmark": benchmark_title(bench), "Runs": runs}
        row |= {f"{k} runs": (counts[k] if k <= runs else "") for k in range(most + 1)}
        row["Borderline (1…n−1)"] = sum(counts[k] for k in range(1, runs))
        rows.append(row)
    return pd.DataFrame(rows)
