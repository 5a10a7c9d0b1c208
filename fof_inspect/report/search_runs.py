"""Table 7: completed search runs, read from their run directories.

The contract with the search is `RUN_DIR/summary.json`, read through the search's own model
(`fof_inspect/search/summary.py`, `RunSummary`); the only other file read is `champion.yaml`.

A run without `validation` is reported as "no validation yet". A directory with
`champion.yaml` but no `summary.json` still shows its champion's topology.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from fof_inspect.genome import GenomeError, load_genome
from fof_inspect.report.load import ReportError
from fof_inspect.report.main_results import mean_sd
from fof_inspect.report.write import Table
from fof_inspect.search.summary import SUMMARY_FILE, RunSummary

NAME = "search_runs"
TITLE = "Table 7: Search runs"
SUMMARY = SUMMARY_FILE
CHAMPION = "champion.yaml"
NOT_VALIDATED = "no validation yet"


def read_run(run_dir: Path) -> dict[str, Any]:
    """One Table 7 row from a run directory, or a `ReportError` naming what breaks the contract."""
    if not run_dir.is_dir():
        raise ReportError(f"search run {run_dir}: not a directory")
    summary_file, champion_file = run_dir / SUMMARY, run_dir / CHAMPION
    if summary_file.is_file():
        return _from_summary(run_dir, summary_file)
    if champion_file.is_file():
        return _from_champion(run_dir, champion_file)
    raise ReportError(
        f"search run {run_dir}: neither {SUMMARY} nor {CHAMPION} in it (see fof_inspect/report/search_runs.py)"
    )


def _from_summary(run_dir: Path, path: Path) -> dict[str, Any]:
    try:
        summary = RunSummary.load(path)
    except ValueError as ex:
        raise ReportError(
            f"{path}: does not follow the search-run contract ({ex}); see fof_inspect/search/summary.py"
        ) from None
    champion = summary.champion
    fitness = math.nan if champion.search_fitness is None else champion.search_fitness
    row = _row(run_dir, summary.regime, champion.describe, champion.iterations, fitness)
    validation = summary.validation
    if validation:
        row |= {
            "single_run": validation.single_run,
            "benchmark_size": validation.benchmark_size,
            "validation_runs": len(validation.runs),
            "validation_mean": validation.run_mean,
            "validation_sd": validation.run_sd,
        }
    return row


def _from_champion(run_dir: Path, path: Path) -> dict[str, Any]:
    try:
        genome = load_genome(path)
    except GenomeError as ex:
        raise ReportError(f"search run {run_dir}: {ex}") from None
    iterations = sum(stage.max_iterations for stage in genome.stages)
    return _row(run_dir, "", genome.describe(), iterations, math.nan)


def _row(run_dir: Path, regime: str, describe: str, iterations: int, fitness: float) -> dict[str, Any]:
    return {
        "run": run_dir.name,
        "directory": str(run_dir),
        "regime": regime,
        "topology": describe,
        "iterations": iterations,
        "search_fitness": fitness,
        "single_run": None,
        "benchmark_size": None,
        "validation_runs": 0,
        "validation_mean": math.nan,
        "validation_sd": math.nan,
    }


def build(run_dirs: list[Path]) -> Table:
    if not run_dirs:
        return Table.absent(NAME, TITLE, "no search run directories given (--search-runs DIR …).")
    frame = pd.DataFrame([read_run(Path(d)) for d in run_dirs])
    frame[["single_run", "benchmark_size"]] = frame[["single_run", "benchmark_size"]].astype("Int64")
    notes = [f"{r.run}: no {SUMMARY}; topology read from {CHAMPION}." for r in frame.itertuples() if not r.regime]
    display = pd.DataFrame(
        {
            "Run": frame["run"],
            "Regime": frame["regime"].replace("", "—"),
            "Topology": frame["topology"],
            "Itrs": frame["iterations"],
            "Search best": frame["search_fitness"].map(lambda f: "—" if math.isnan(f) else f"{f:.2f}"),
            "Full benchmark": [
                NOT_VALIDATED if n is None or pd.isna(n) else f"{int(n)}/{int(s)}"
                for n, s in zip(frame["single_run"], frame["benchmark_size"], strict=True)
            ],
            "n-run validation": [
                NOT_VALIDATED if k == 0 else f"{mean_sd(m, sd, k)} (n={k})"
                for m, sd, k in zip(
                    frame["validation_mean"], frame["validation_sd"], frame["validation_runs"], strict=True
                )
            ],
        }
    )
    return Table(NAME, TITLE, frame=frame, display=display, notes=notes)
