"""Table 3: what the refiner can fix, by the error type of the generator's first draft.

For every configuration with a refinement stage: how many samples failed their first execution
with each error type, and the share of those whose final code passed. Counts are pooled over
runs. The ranges table is the paper's layout: per error type, the fix rate's range across
configurations with early stopping (ablations without it count their forced extra iterations'
regressions, so they are kept out of the ranges and shown in the per-configuration table only).
"""

from __future__ import annotations

import pandas as pd

from fof_inspect.report.load import Logs, benchmark_order, benchmark_title
from fof_inspect.report.write import Table

NAME = "error_taxonomy"
TITLE = "Table 3a: Error taxonomy per configuration (first-execution error → fixed by the end)"
RANGES_NAME = "error_taxonomy_ranges"
RANGES_TITLE = "Table 3: Fix rate by first-execution error type, range across configurations"
_KEYS = ["config_order", "config_id", "config", "early_stop", "benchmark", "first_error_type"]


def _refines(samples: pd.DataFrame) -> pd.Series:
    return (samples["stages"].fillna(0) > 0) & samples["trace"].notna()


def fix_rates(samples: pd.DataFrame) -> pd.DataFrame:
    """Per configuration, benchmark and first error type: failed first, fixed by the end, rate."""
    failed = samples[_refines(samples) & samples["first_error_type"].notna()]
    rates = (
        failed.groupby(_KEYS, sort=False)
        .agg(runs=("run", "nunique"), failed=("passed", "size"), fixed=("passed", "sum"))
        .reset_index()
    )
    rates["fixed"] = rates["fixed"].astype(int)
    rates["fix_rate"] = rates["fixed"] / rates["failed"]
    rates = rates.rename(columns={"first_error_type": "error_type"})
    return rates.sort_values(["config_order", "benchmark", "failed"], ascending=[True, True, False])


def ranges(rates: pd.DataFrame) -> pd.DataFrame:
    """Per benchmark and error type: pooled fix rate and its min and max across configurations."""
    kept = rates[rates["early_stop"]]
    grouped = (
        kept.groupby(["benchmark", "error_type"])
        .agg(
            configurations=("config_id", "nunique"),
            failed=("failed", "sum"),
            fixed=("fixed", "sum"),
            min_fix_rate=("fix_rate", "min"),
            max_fix_rate=("fix_rate", "max"),
        )
        .reset_index()
    )
    grouped["fix_rate"] = grouped["fixed"] / grouped["failed"]
    return grouped.sort_values(["benchmark", "failed"], ascending=[True, False]).reset_index(drop=True)


def build(logs: Logs) -> list[Table]:
    samples = logs.samples
    without = sorted(
        set(samples.loc[~_refines(samples), "config_id"]) - set(samples.loc[_refines(samples), "config_id"])
    )
    notes = [f"Not in this table (no refinement stage, nothing to fix): {', '.join(without)}."] if without else []
    rates = fix_rates(samples)
    if rates.empty:
        reason = "needs runs of a refinement pipeline (score metadata with a trace); " + (
            "none of these logs has one." if not _refines(samples).any() else "no first draft failed."
        )
        return [Table.absent(NAME, TITLE, reason, notes), Table.absent(RANGES_NAME, RANGES_TITLE, reason)]
    detail = Table(NAME, TITLE, frame=rates.drop(columns="config_order"), display=_detail_display(rates), notes=notes)
    spread = ranges(rates)
    if spread.empty:
        reason = "traces come only from runs without early stopping; the ranges are over configurations with it."
        return [detail, Table.absent(RANGES_NAME, RANGES_TITLE, reason)]
    ranges_notes = ["Fix rate = first drafts failing with this error whose final code passed; rare types are noisy."]
    return [detail, Table(RANGES_NAME, RANGES_TITLE, frame=spread, display=_ranges_display(spread), notes=ranges_notes)]


def percent_range(low: float, high: float) -> str:
    low_pct, high_pct = round(100 * low), round(100 * high)
    return f"{low_pct}%" if low_pct == high_pct else f"{low_pct}–{high_pct}%"


def _detail_display(rates: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Configuration": rates["config_id"] + " " + rates["config"],
            "Benchmark": rates["benchmark"].map(benchmark_title),
            "First error": rates["error_type"],
            "Failed first": rates["failed"],
            "Fixed": rates["fixed"],
            "Fix rate": rates["fix_rate"].map(lambda r: f"{100 * r:.0f}%"),
        }
    )


def _ranges_display(spread: pd.DataFrame) -> pd.DataFrame:
    benchmarks = benchmark_order(spread["benchmark"].tolist())
    order = spread.groupby("error_type")["failed"].sum().sort_values(ascending=False).index
    rows = []
    for error_type in order:
        row = {"Error type": error_type}
        for bench in benchmarks:
            hit = spread[(spread["benchmark"] == bench) & (spread["error_type"] == error_type)]
            if hit.empty:
                row[f"{benchmark_title(bench)} fix rate"] = "—"
                continue
            r = hit.iloc[0]
            configs = f"{r['configurations']} config" + ("s" if r["configurations"] > 1 else "")
            row[f"{benchmark_title(bench)} fix rate"] = (
                f"{percent_range(r['min_fix_rate'], r['max_fix_rate'])} (pooled {r['fixed']}/{r['failed']}, {configs})"
            )
        rows.append(row)
    return pd.DataFrame(rows)
