"""The paper's two figures as PNGs, drawn from the same frames the CSVs hold.

- `early_stopping_paradox.png` (Figure 3): left, cumulative problems solved with early
  stopping by iteration budget; right, net value per iteration without it.
- `fix_rate_by_error_type.png` (Figure 2): pooled fix rate per first-execution error type and
  benchmark, error bars spanning the range across configurations.

matplotlib runs on the Agg backend, so no display is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pandas as pd

from fof_inspect.report.load import benchmark_order, benchmark_title

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

    from fof_inspect.report.write import Table

PARADOX = "early_stopping_paradox"
FIX_RATES = "fix_rate_by_error_type"


@dataclass
class Figure:
    """A written PNG, or why it could not be drawn."""

    name: str
    title: str
    path: Path | None = None
    missing: str | None = None


def draw_all(tables: Mapping[str, Table], out_dir: Path) -> list[Figure]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return [paradox(tables, out_dir), fix_rates(tables, out_dir)]


def _pyplot() -> ModuleType:
    """pyplot on the Agg backend, imported only when a figure is drawn (it is slow to import)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _frame(tables: Mapping[str, Table], name: str) -> pd.DataFrame | None:
    table = tables.get(name)
    return None if table is None or table.missing or table.frame is None or table.frame.empty else table.frame


def _absent(name: str, title: str, out_dir: Path, reason: str) -> Figure:
    (out_dir / f"{name}.png").unlink(missing_ok=True)  # never leave a previous report's figure behind
    return Figure(name, title, missing=reason)


def paradox(tables: Mapping[str, Table], out_dir: Path) -> Figure:
    title = "The early-stopping paradox"
    cumulative, net = _frame(tables, "early_stopping_cumulative"), _frame(tables, "early_stopping_net")
    if cumulative is None or net is None:
        return _absent(PARADOX, title, out_dir, "needs runs with early stopping off (`-S early_stop=false`).")
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    series = list(cumulative.groupby(["config_id", "benchmark"], sort=False))
    for (cid, bench), group in series:
        left.plot(group["iterations"], group["solved"], marker="o", label=f"{cid} {benchmark_title(bench)}")
    left.set(
        title="With early stopping: cumulative solved",
        xlabel="refinement iterations allowed",
        ylabel="problems solved (per run)",
    )
    left.set_xticks(sorted(cumulative["iterations"].unique()))
    width = 0.8 / max(len(series), 1)
    for i, ((cid, bench), group) in enumerate(net.groupby(["config_id", "benchmark"], sort=False)):
        right.bar(
            group["iteration"] + (i - (len(series) - 1) / 2) * width,
            group["net"],
            width,
            label=f"{cid} {benchmark_title(bench)}",
        )
    right.axhline(0, color="black", linewidth=0.8)
    right.set(
        title="Without early stopping: net value per iteration",
        xlabel="iteration",
        ylabel="new fixes − new regressions (per run)",
    )
    right.set_xticks(sorted(net["iteration"].unique()))
    left.legend(fontsize="small")
    return _save(fig, out_dir, PARADOX, title)


def fix_rates(tables: Mapping[str, Table], out_dir: Path) -> Figure:
    title = "Fix rate by first-execution error type"
    spread = _frame(tables, "error_taxonomy_ranges")
    if spread is None:
        reason = tables["error_taxonomy_ranges"].missing if "error_taxonomy_ranges" in tables else None
        return _absent(FIX_RATES, title, out_dir, reason or "needs the error taxonomy ranges (Table 3).")
    plt = _pyplot()
    error_types = spread.groupby("error_type")["failed"].sum().sort_values(ascending=False).index.tolist()
    benchmarks = benchmark_order(spread["benchmark"].tolist())
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(error_types) * len(benchmarks)), 4.5))
    width = 0.8 / len(benchmarks)
    for i, bench in enumerate(benchmarks):
        rows = spread[spread["benchmark"] == bench].set_index("error_type").reindex(error_types)
        x = [j + (i - (len(benchmarks) - 1) / 2) * width for j in range(len(error_types))]
        rate, low, high = 100 * rows["fix_rate"], 100 * rows["min_fix_rate"], 100 * rows["max_fix_rate"]
        ax.bar(
            x,
            rate,
            width,
            yerr=[(rate - low).fillna(0), (high - rate).fillna(0)],
            capsize=4,
            label=benchmark_title(bench),
        )
    ax.set_xticks(range(len(error_types)), error_types, rotation=20)
    ax.set(
        title=f"{title} (bars: pooled; error bars: range across configurations)",
        ylabel="fixed by the end (%)",
        ylim=(0, 105),
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
    return _save(fig, out_dir, FIX_RATES, title)


def _save(fig: MplFigure, out_dir: Path, name: str, title: str) -> Figure:
    path = out_dir / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    _pyplot().close(fig)
    return Figure(name, title, path=path)
