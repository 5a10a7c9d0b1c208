"""RUN_DIR/summary.json: the champion and its validation on the full benchmark (Table 7, Table 8).

Written by the search's `validate` and read by `fof report --search-runs` through this one
model. The fields a report needs are `regime`, `champion.describe`, `champion.iterations`,
`champion.search_fitness` and, once validated, `validation.single_run`, `validation.runs` and
`validation.benchmark_size`; the rest is derived or informational, so older files still read.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from pydantic import BaseModel, ValidationError

from fof_inspect.genome import Genome

SUMMARY_FILE = "summary.json"


class ChampionSummary(BaseModel):
    describe: str
    """The champion's topology on one line (for people)."""
    iterations: int
    """Refiner calls the champion allows."""
    search_fitness: float | None = None
    """Its best fitness (problems solved) during the search."""
    subset_size: int | None = None
    genome: Genome | None = None
    """The champion as data (absent in files written before it was recorded)."""


class ValidationSummary(BaseModel):
    single_run: int
    """The first full-benchmark run's pass count: what a one-run report would claim."""
    runs: list[int]
    benchmark_size: int
    mean: float | None = None
    sd: float | None = None
    single_run_inflation: float | None = None
    """(single run − mean) / mean: how far one run overstates the champion (Table 8)."""

    @classmethod
    def of_runs(cls, runs: list[int], benchmark_size: int) -> ValidationSummary:
        mean = statistics.fmean(runs)
        sd = statistics.stdev(runs) if len(runs) > 1 else 0.0
        return cls(
            single_run=runs[0],
            runs=runs,
            benchmark_size=benchmark_size,
            mean=round(mean, 3),
            sd=round(sd, 3),
            single_run_inflation=round((runs[0] - mean) / mean, 4) if mean else None,
        )

    @property
    def run_mean(self) -> float:
        return statistics.fmean(self.runs) if self.runs else float("nan")

    @property
    def run_sd(self) -> float:
        return statistics.stdev(self.runs) if len(self.runs) > 1 else float("nan")


class RunSummary(BaseModel):
    regime: str
    """How fitness was evaluated (`stochastic`, `deterministic`; free text in older files)."""
    task: str | None = None
    champion: ChampionSummary
    validation: ValidationSummary | None = None
    """None: not validated yet."""

    def save(self, run_dir: Path) -> None:
        (run_dir / SUMMARY_FILE).write_text(self.model_dump_json(indent=1, exclude_none=True))

    @classmethod
    def load(cls, path: Path) -> RunSummary:
        """The summary in `path`; `ValueError` (one line) if it is not one."""
        try:
            return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except ValidationError as ex:
            first = ex.errors()[0]
            raise ValueError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None

    def line(self) -> str:
        """What `fof evolve` prints after validating."""
        v = self.validation
        if v is None or not v.mean:
            return f"Champion solved nothing over {len(v.runs) if v else 0} runs."
        n = len(v.runs)
        return (
            f"Champion {self.champion.describe}: {v.mean:.1f} ± {v.sd or 0:.1f} of {v.benchmark_size} over {n} runs "
            f"(single run {v.single_run}, {v.single_run_inflation or 0:+.1%} vs the {n}-run mean)"
        )
