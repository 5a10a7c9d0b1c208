"""One search run's settings, each default defined once: `fof evolve`'s options are read from here."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fof_inspect.benchmark_task import MAX_CONNECTIONS
from fof_inspect.search.selection import PARSIMONY, POPULATION_SIZE
from fof_inspect.search.subsets import SUBSET_SIZE

PAPER_MODELS = ["ollama/gemma3:1b", "ollama/qwen2.5:1.5b", "ollama/llama3.2:3b"]
MAX_SANDBOXES = 8
"""Sandbox containers across all genomes evaluated at once (bench/harness.py measured it)."""

Benchmark = Literal["humaneval", "mbpp"]
Regime = Literal["stochastic", "deterministic"]
"""`stochastic`: the genomes' evolved temperatures; `deterministic`: every node at T=0."""


class RunConfig(BaseModel):
    """What a run was started with; saved in its checkpoint, so a resumed run keeps it."""

    model_config = ConfigDict(extra="ignore")

    task: Benchmark = Field("humaneval", description="the benchmark")
    models: list[str] = Field(PAPER_MODELS, description="comma-separated model pool")
    population: int = Field(POPULATION_SIZE, ge=2, description="genomes per generation")
    generations: int = Field(10, ge=1, description="generations to evolve")
    subset: int = Field(SUBSET_SIZE, ge=1, description="problems per generation")
    evals: int = Field(3, ge=1, description="independent evaluations per genome")
    regime: Regime = Field("stochastic", description="stochastic: evolved temperatures; deterministic: T=0")
    parsimony: float = Field(PARSIMONY, ge=0, description="fitness lost per node")
    seed: int = Field(0, description="seed of the search's random choices")
    baseline: str | None = Field(None, description="log of a solo run: per-problem pass rates stratify the subsets")
    data_dir: str | None = Field(None, description="benchmark data folder (MBPP); else $FOF_DATA_DIR")
    validate_runs: int = Field(5, ge=0, description="full-benchmark runs of the champion (0: skip)")
    max_connections: int = Field(
        MAX_CONNECTIONS, ge=1,
        description="concurrent model requests (Inspect); about 2x OLLAMA_NUM_PARALLEL keeps Ollama busy",
    )
    max_sandboxes: int = Field(MAX_SANDBOXES, ge=1, description="sandbox containers across all genomes evaluated at once")
    run_dir: str | None = Field(None, description="default: logs/evolve-<time>")

    @field_validator("models", mode="before")
    @classmethod
    def _split_pool(cls, value: object) -> object:
        """`--models a,b,c` arrives as one string."""
        if isinstance(value, str):
            return [m.strip() for m in value.split(",") if m.strip()]
        return value

    @field_validator("models")
    @classmethod
    def _some_model(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("the model pool is empty: pass --models ollama/<name>,...")
        return value
