"""What must hold of any eval log, whatever a (real) model answered: for tests and bench/."""

from __future__ import annotations

import builtins
import subprocess
import sys
from pathlib import Path

from inspect_ai.log import EvalLog

from fof_inspect.grading.error_type import EARLY_EXIT, KILLED, NO_CODE, TIMEOUT

SPECIAL_TYPES = {TIMEOUT, NO_CODE, EARLY_EXIT, KILLED}


def in_taxonomy(error_type: str) -> bool:
    """A special type, or an exception class (builtin, or one the model's code defined)."""
    if error_type in SPECIAL_TYPES:
        return True
    known = getattr(builtins, error_type, None)
    if isinstance(known, type) and issubclass(known, BaseException):
        return True
    return error_type.isidentifier() and error_type[0].isupper() and error_type not in {"None", "True", "False"}


def assert_graded(log: EvalLog, samples: int) -> None:
    """Every sample scored, with an error type iff it failed, and refinement only after failures."""
    assert log.status == "success", log.error
    assert log.samples is not None and len(log.samples) == samples
    for sample in log.samples:
        assert sample.error is None, f"{sample.id}: harness error {sample.error}"
        score = sample.scores["pass_at_1"]
        error_type = score.metadata["error_type"]
        assert (score.value == "C") == (error_type is None), (sample.id, score.value, error_type)
        assert error_type is None or in_taxonomy(error_type), f"{sample.id}: {error_type!r} is not in the taxonomy"
        assert_refined_only_after_failures(str(sample.id), score.metadata)


def assert_refined_only_after_failures(sample_id: str, metadata: dict) -> None:
    """Early stopping: a passing execution ends the pipeline; after a failing one the refiner runs."""
    trace = metadata.get("trace") or []
    for record, following in zip(trace, trace[1:]):
        assert not record["feedback_passed"], f"{sample_id}: went on after a pass: {trace}"
        assert following["produced_by"].startswith("refiner") and following["produced_by"] != record["produced_by"], \
            f"{sample_id}: no refinement after a failure: {trace}"
    refined = {r["produced_by"] for r in trace if r["produced_by"].startswith("refiner")}
    assert metadata.get("iterations", 0) == len(refined), f"{sample_id}: {metadata.get('iterations')} vs {trace}"
    for record in trace:
        assert (record["error_type"] is None) == record["passed"], f"{sample_id}: {record}"


def assert_report_reads(log_dir: Path, out: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "fof_inspect.cli", "report", str(log_dir), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Table 1" in (out / "report.md").read_text()
