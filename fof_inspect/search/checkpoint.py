"""The search's checkpoint: everything needed to continue a run exactly where it stopped.

Written (atomically) whenever a generation's population is bred, before any of it is
evaluated. Together with the generation's finished eval logs (each genome evaluation is
its own log), a resumed run repeats no finished evaluation and loses none, and — since the
random generator's state is saved too — breeds exactly what the uninterrupted run would.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from inspect_ai._util.error import PrerequisiteError
from pydantic import BaseModel, Field, ValidationError

from fof_inspect.genome import Genome
from fof_inspect.search.config import RunConfig
from fof_inspect.search.speciation import Species

STATE_FILE = "state.json"
HISTORY_FILE = "history.jsonl"


class GenerationRecord(BaseModel):
    """One line of history.jsonl: how a generation went."""

    generation: int
    """Counting from 1."""
    best: float
    """The champion's fitness after the parsimony penalty."""
    best_raw: float
    """Problems the champion solved (mean over the evaluations)."""
    mean: float
    species: int
    threshold: float
    champion_id: str
    champion: str
    """The champion's topology on one line (for people; the genome is in champion.yaml)."""
    champion_runs: list[int]
    model_calls: int
    cache_saved_calls: int
    seconds: float

    def line(self) -> str:
        """The progress line printed after the generation."""
        return (
            f"gen {self.generation}: best {self.best:.2f} (solved {self.best_raw:.2f}) "
            f"| mean {self.mean:.2f} | species {self.species} | threshold {self.threshold:.2f} "
            f"| cache saved {self.cache_saved_calls}/{self.model_calls} calls | {self.seconds:.0f}s "
            f"| champion {self.champion_id}: {self.champion}"
        )


class RunState(BaseModel):
    """One evolution run between two generations."""

    config: RunConfig
    generation: int = 0
    population: dict[str, Genome]
    columns: list[list[str]]
    """The difficulty-balanced problem columns; generation g uses column g mod len."""
    innovation: int
    next_species_id: int = 0
    species: list[Species] = Field(default_factory=list)
    threshold: float
    rng_state: list[Any]
    history: list[GenerationRecord] = Field(default_factory=list)
    champion_id: str | None = None

    def rng(self) -> random.Random:
        rng = random.Random()
        version, internal, gauss = self.rng_state
        rng.setstate((version, tuple(internal), gauss))
        return rng

    def keep_rng(self, rng: random.Random) -> None:
        version, internal, gauss = rng.getstate()
        self.rng_state = [version, list(internal), gauss]

    def save(self, run_dir: Path) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        tmp = run_dir / f".{STATE_FILE}.tmp"
        tmp.write_text(self.model_dump_json(indent=1))
        os.replace(tmp, run_dir / STATE_FILE)

    @classmethod
    def load(cls, run_dir: Path) -> RunState:
        path = run_dir / STATE_FILE
        if not path.is_file():
            raise PrerequisiteError(
                f"{run_dir} is not an evolution run directory (no {STATE_FILE}): "
                "pass the --run-dir of a run started with `fof evolve`."
            )
        try:
            data = json.loads(path.read_text())
        except ValueError as ex:
            raise PrerequisiteError(f"{path} is damaged and cannot be resumed: {ex}") from ex
        try:
            return cls.model_validate(data)
        except ValidationError as ex:
            first = ex.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise PrerequisiteError(
                f"{path} cannot be resumed by this version of fof-inspect ({where}: {first['msg']}); "
                "start a new run with `fof evolve --run-dir NEW_DIR` (its finished eval logs stay readable)"
            ) from None
