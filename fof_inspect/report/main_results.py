"""Table 1: pass count per configuration and benchmark, mean ± sd over runs, and the percentage.

A run is one epoch of one log, so `--epochs 5` and five separate logs count the same. The
per-run counts here are also what the separation and consistency tables compare.
"""

from __future__ import annotations

import math
import statistics

import pandas as pd

from fof_inspect.report.load import Logs, benchmark_order, benchmark_title
from fof_inspect.report.write import Table

NAME = "main_results"
TITLE = "Table 1: Main results (pass count, mean ± sd over runs)"
_KEYS = ["config_order", "config_id", "config", "benchmark"]


def run_counts(samples: pd.DataFrame) -> pd.DataFrame:
    """Problems passed in every run of every configuration on every benchmark."""
    counts = samples.groupby([*_KEYS, "run"], sort=False).agg(
        passed=("passed", "sum"), run_order=("run_order", "first")
    )
    return counts.reset_index().sort_values(["config_order", "run_order"])


def summarize(samples: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration and benchmark: runs, problems, mean, sd (n−1; NaN for one run)."""
    problems = samples.groupby(_KEYS)["problem"].nunique()
    rows = []
    for keys, runs in run_counts(samples).groupby(_KEYS, sort=False):
        counts = [int(n) for n in runs.sort_values("run_order")["passed"]]
        mean = statistics.fmean(counts)
        rows.append(
            {
                **dict(zip(_KEYS, keys, strict=True)),
                "problems": int(problems[keys]),
                "runs": len(counts),
                "mean": mean,
                "sd": statistics.stdev(counts) if len(counts) > 1 else math.nan,
                "percent": 100 * mean / int(problems[keys]),
                "min": min(counts),
                "max": max(counts),
                "first_run": counts[0],
                "pass_counts": " ".join(map(str, counts)),
            }
        )
    order = {b: i for i, b in enumerate(benchmark_order([r["benchmark"] for r in rows]))}
    frame = pd.DataFrame(rows)
    return frame.sort_values(["config_order", "benchmark"], key=lambda c: c.map(order) if c.name == "benchmark" else c)


def mean_sd(mean: float, sd: float, runs: int) -> str:
    """`76.6 ± 3.7`, or the single count when there is one run (no sd to show)."""
    return f"{mean:.1f} ± {sd:.1f}" if runs > 1 else f"{mean:g}"


def build(logs: Logs) -> Table:
    summary = summarize(logs.samples)
    benchmarks = benchmark_order(summary["benchmark"].tolist())
    sizes = {b: sorted(set(summary.loc[summary["benchmark"] == b, "problems"])) for b in benchmarks}
    display_rows = []
    for (cid, config), rows in summary.groupby(["config_id", "config"], sort=False):
        row = {"id": cid, "Configuration": config}
        by_benchmark = {r["benchmark"]: r for r in rows.to_dict("records")}
        for b in benchmarks:
            r = by_benchmark.get(b)
            header = f"{benchmark_title(b)} ({sizes[b][0]})" if len(sizes[b]) == 1 else benchmark_title(b)
            if r is None:
                row[header] = "N/A"
                continue
            of = "" if len(sizes[b]) == 1 else f" of {r['problems']}"
            runs = f"{r['runs']} run" + ("s" if r["runs"] != 1 else "")
            row[header] = f"{mean_sd(r['mean'], r['sd'], r['runs'])}{of} ({r['percent']:.1f}%), {runs}"
        display_rows.append(row)
    notes = [
        "A run is one epoch of one log; ± is the sample standard deviation (n−1) of the pass count over runs.",
        "Configurations: " + "; ".join(f"{c.config_id} = {c.config}" for c in logs.configurations().itertuples()),
    ]
    mixed = [benchmark_title(b) for b in benchmarks if len(sizes[b]) > 1]
    if mixed:
        notes.append(f"Configurations were run on different numbers of problems for: {', '.join(mixed)}.")
    return Table(
        NAME, TITLE, frame=summary.drop(columns="config_order"), display=pd.DataFrame(display_rows), notes=notes
    )
