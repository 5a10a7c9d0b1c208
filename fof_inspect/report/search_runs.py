"""Table 7: completed search runs, read from their run directories.

The contract with the search (the only file read besides `champion.yaml`):

    RUN_DIR/summary.json
    {
      "regime": "stochastic",                  # how fitness was evaluated, free text
      "champion": {"describe": "gen(…) → exec → ref(…) ×2",
                   "iterations": 2,            # refiner calls the champion allows
                   "search_fitness": 0.82},    # its best fitness during the search
      "validation": {"single_run": 99,         # optional: the first full-benchmark run,
                     "runs": [93, 95, 90, 97, 94],   # every validation run's pass count,
                     "benchmark_size": 164}    # and the benchmark's size
    }

A run without `validation` is reported as "no validation yet". A directory with
`champion.yaml` but no `summary.json` still shows its champion's topology.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import pandas as pd

from fof_inspect.genome import GenomeError, load_genome
from fof_inspect.report.load import ReportError
from fof_inspect.report.main_results import mean_sd
from fof_inspect.report.write import Table

NAME = "search_runs"
TITLE = "Table 7: Search runs"
SUMMARY = "summary.json"
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
        summary = json.loads(path.read_text(encoding="utf-8"))
        champion = summary["champion"]
        row = _row(
            run_dir,
            str(summary["regime"]),
            str(champion["describe"]),
            int(champion["iterations"]),
            float(champion["search_fitness"]),
        )
        validation = summary.get("validation")
        if validation:
            runs = [int(n) for n in validation["runs"]]
            row |= {
                "single_run": int(validation["single_run"]),
                "benchmark_size": int(validation["benchmark_size"]),
                "validation_runs": len(runs),
                "validation_mean": statistics.fmean(runs) if runs else math.nan,
                "validation_sd": statistics.stdev(runs) if len(runs) > 1 else math.nan,
            }
        return row
    except (ValueError, KeyError, TypeError) as ex:
        raise ReportError(
            f"{path}: does not follow the search-run contract ({type(ex).__name__}: {ex}); "
            "see fof_inspect/report/search_runs.py"
        ) from None


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
