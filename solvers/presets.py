"""The paper's named pipelines (§3.3), shipped as genome files in `pipelines/`.

They are YAML rather than Python so that a named pipeline and an evolved or
hand-edited genome are the same kind of thing, loaded and validated the same way.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fof_inspect.genome import Genome, GenomeError, load_genome

__all__ = ["NAMED_PIPELINES", "named_genome", "resolve_genome"]

NAMED_PIPELINES: list[str] = ["solo", "self_refine", "cross_model", "champion", "coder_self_refine"]
"""In the paper's order (baselines first, then the champion, then the coder baseline)."""


def named_genome(name: str) -> Genome:
    """Load a shipped pipeline by name; an unknown name lists the valid ones."""
    if name not in NAMED_PIPELINES:
        raise GenomeError(
            "named pipeline", None, f"unknown pipeline {name!r} (choose from {', '.join(NAMED_PIPELINES)})"
        )
    text = files("fof_inspect.solvers").joinpath("pipelines", f"{name}.yaml").read_text(encoding="utf-8")
    return Genome.from_yaml(text, source=f"genome file pipelines/{name}.yaml")


def resolve_genome(name_or_path: str | Path) -> Genome:
    """What a `--pipeline` style option wants: a shipped name, else a genome file path."""
    if isinstance(name_or_path, str):
        if name_or_path in NAMED_PIPELINES:
            return named_genome(name_or_path)
        if not Path(name_or_path).suffix and not Path(name_or_path).exists():
            raise GenomeError(
                "pipeline",
                None,
                f"{name_or_path!r} is neither a named pipeline ({', '.join(NAMED_PIPELINES)}) nor a genome file",
            )
    return load_genome(name_or_path)
