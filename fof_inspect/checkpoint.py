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

from pydantic import BaseModel, Field

from fof_inspect.compat import PrerequisiteError
from fof_inspect.genome import Genome

STATE_FILE = "state.json"


class SpeciesState(BaseModel):
    id: int
    representative: Genome
    members: list[str]


class RunState(BaseModel):
    """One evolution run between two generations."""

    config: dict[str, Any]
    """The `fof evolve` arguments the run was started with."""
    generation: int = 0
    population: dict[str, Genome]
    columns: list[list[str]]
    """The difficulty-balanced problem columns; generation g uses column g mod len."""
    innovation: int
    next_species_id: int = 0
    species: list[SpeciesState] = Field(default_factory=list)
    threshold: float
    rng_state: list[Any]
    history: list[dict[str, Any]] = Field(default_factory=list)
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
    def load(cls, run_dir: Path) -> "RunState":
        path = run_dir / STATE_FILE
        if not path.is_file():
            raise PrerequisiteError(
                f"{run_dir} is not an evolution run directory (no {STATE_FILE}): "
                "pass the --run-dir of a run started with `fof evolve`."
            )
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except ValueError as ex:
            raise PrerequisiteError(f"{path} is damaged and cannot be resumed: {ex}") from ex
