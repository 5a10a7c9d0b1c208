"""The extraction corpus (tests/fixtures/extraction/corpus.yaml) and the real samples
its cases answer, shared by the extraction tests with and without Docker."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from inspect_ai.dataset import Sample

from fof_inspect.datasets import humaneval_dataset, mbpp_dataset

CORPUS = Path(__file__).parents[1] / "fixtures" / "extraction" / "corpus.yaml"
MODES = ("sanitize", "as_written")


@cache
def corpus() -> list[dict[str, Any]]:
    return yaml.safe_load(CORPUS.read_text())


@cache
def samples(data_dir: str) -> dict[str, Sample]:
    """Every HumanEval and MBPP sample by id."""
    datasets = (humaneval_dataset(), mbpp_dataset(data_dir=data_dir))
    return {str(s.id): s for dataset in datasets for s in dataset}


def case_metadata(case: dict[str, Any], mode: str, data_dir: str) -> dict[str, Any]:
    """The case's real sample metadata, with the extraction mode set as the task sets it."""
    return {**(samples(data_dir)[case["task"]].metadata or {}), "extraction": mode}


def corpus_params() -> list[tuple[str, dict[str, Any], str]]:
    """(case name, case, mode) for every case and mode, for parametrize."""
    return [(case["name"], case, mode) for case in corpus() for mode in MODES]
