"""What the nodes of one sample's pipeline hand each other, kept in the sample's store
(so Inspect View shows it), and the per-iteration trace the reports read."""

from __future__ import annotations

from inspect_ai.util import StoreModel
from pydantic import BaseModel, Field

from fof_inspect.grading.execution import Execution
from fof_inspect.grading.extract import Extraction


class IterationRecord(BaseModel):
    """One execution of one version of the code."""

    stage: int
    """1-based stage whose executor ran it; `len(stages) + 1` for the final check."""
    iteration: int
    """1-based iteration within the stage."""
    produced_by: str
    """The node whose output this code is: "generator" or "refiner" (with stage/iteration)."""
    code_hash: str
    passed: bool
    """Against the benchmark's hidden tests: what pass@1 would say of this code."""
    error_type: str | None
    feedback_passed: bool
    """Against the tests the pipeline was allowed to see (equal to `passed` in hidden mode)."""


class PipelineState(StoreModel):
    """The working state of a pipeline for one sample."""

    code: str | None = None
    extraction: Extraction | None = None
    """How `code` was taken from its node's answer (mode, rule, what was dropped)."""
    produced_by: str = "generator"
    execution: Execution | None = None
    """The latest execution whose feedback the analyzer and refiner see."""
    graded: Execution | None = None
    """The latest execution against the hidden tests: the scorer's verdict if the code is unchanged."""
    analysis: str | None = None
    oracle: str | None = None
    """Who judged the code: "fof_grader" (fof's tasks) or "task_scorer" (any other task's scorer)."""
    trace: list[IterationRecord] = Field(default_factory=list)
    refiner_calls: int = 0
