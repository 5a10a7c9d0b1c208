"""Reading Inspect logs into one row per sample and epoch, labelled with its configuration and run.

Logs are read with `inspect_ai.analysis.samples_df` (the eval columns come from the library's
own `EvalInfo`/`EvalTask`/`EvalModel` definitions; the pass@1 score and its metadata from full
samples), then normalised into a plain frame every table reads:

| column | meaning |
| --- | --- |
| `log`, `created` | the log file and when its eval was created |
| `benchmark` | the task name without namespace (`humaneval`, `mbpp`, ...) |
| `config_id`, `config`, `config_order` | `C1`, `C2`, ... in order of first appearance, and the label |
| `pipeline` | a pipeline's one-line description (None for other solvers) |
| `stages`, `solo` | a pipeline's number of refinement stages (None for other solvers); a solo baseline? |
| `early_stop` | False for `-S early_stop=false` runs (or a log whose traces refine past a pass) |
| `problem`, `epoch` | the sample id and epoch |
| `run`, `run_order` | one run = one epoch of one log; ordered by creation time, then epoch |
| `passed`, `error_type` | the pass@1 verdict on the final code and its error type |
| `first_error_type`, `trace` | a pipeline's first-execution error type and its trace (`IterationRecord`s, else None) |

A pipeline is read from the structured sample metadata its solver writes (`genome`, the genome
as data, and `pipeline_name`), never from its description. Logs written before those fields
existed fall back to parsing the description, and the report says so in a note. A file that is
not an Inspect log, or a log not graded by `pass_at_1`, is a `ReportError`.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import pandas as pd
from inspect_ai._util.error import PrerequisiteError
from inspect_ai.analysis import (
    EvalConfiguration,
    EvalInfo,
    EvalModel,
    EvalResults,
    EvalTask,
    SampleColumn,
    samples_df,
)
from inspect_ai.log import EvalLog, EvalSample, list_eval_logs, read_eval_log
from pydantic import ValidationError

from fof_inspect.genome import Genome, NodeGene
from fof_inspect.scorers.pass_at_1 import SCORER_NAME, is_pass_at_1, pass_at_1_score, passed
from fof_inspect.solvers.pipeline_state import IterationRecord

SCORER = SCORER_NAME
BENCHMARK_TITLES = {"humaneval": "HumanEval", "mbpp": "MBPP"}
_EVAL_FIELDS = {"log", "created", "task_name", "solver", "solver_args", "model", "model_roles", "status"}
_SKIPPED_SAMPLE_FIELDS = {"messages", "events", "attachments", "store"}
"""Not needed by any table; skipping them keeps big .eval logs fast to read."""
_LEGACY_NODE = re.compile(r"\b(gen|ana|ref)\(([^()]*)\)")
_LEGACY_ROLE = {"gen": "generator", "ana": "analyzer", "ref": "refiner"}
LEGACY_NOTE = (
    "{n} sample(s) from logs without the structured pipeline metadata (`genome`, written since "
    "fof-inspect 0.1 of 2026-12-02): their pipelines were read from the description string."
)


class ReportError(PrerequisiteError):
    """An input the report cannot use; the message names it and says why."""


@dataclass
class Logs:
    """The samples of every log given to the report, and what was noticed reading them."""

    samples: pd.DataFrame
    files: list[str]
    notes: list[str] = field(default_factory=list)

    def configurations(self) -> pd.DataFrame:
        """`config_id`, `config`, `early_stop` and `solo` of each configuration, in report order."""
        columns = ["config_order", "config_id", "config", "early_stop", "solo"]
        return self.samples[columns].drop_duplicates("config_id").sort_values("config_order")[columns[1:]]


def benchmark_title(benchmark: str) -> str:
    return BENCHMARK_TITLES.get(benchmark, benchmark)


def benchmark_order(benchmarks: Sequence[str]) -> list[str]:
    """The paper's benchmarks first, then the others alphabetically."""
    known = list(BENCHMARK_TITLES)
    return sorted(set(benchmarks), key=lambda b: (known.index(b) if b in known else len(known), b))


# -- finding and checking log files ------------------------------------------------------


def log_files(paths: Sequence[str | Path]) -> list[str]:
    """The log files named by `paths` (files, or directories searched recursively), deduplicated."""
    files: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ReportError(f"{raw}: no such file or directory")
        if path.is_dir():
            found = [_local(info.name) for info in list_eval_logs(str(path), recursive=True, descending=False)]
            if not found:
                raise ReportError(f"{raw}: no Inspect logs (.eval, or .json named by Inspect) in this directory")
            files.extend(sorted(found))
        else:
            files.append(str(path))
    unique = list(dict.fromkeys(str(Path(f).resolve()) for f in files))
    return unique


def _local(name: str) -> str:
    return url2pathname(urlparse(name).path) if name.startswith("file://") else name


def check_log(path: str) -> EvalLog:
    """The log's header, or a `ReportError` saying why the file is not a usable log."""
    try:
        header = read_eval_log(path, header_only=True)
    except Exception as ex:  # every reader failure means the same thing to the user
        reason = (str(ex).strip().splitlines() or [type(ex).__name__])[0][:200]
        raise ReportError(
            f"{path} is not an Inspect eval log ({reason}); give .eval/.json logs written by Inspect "
            "or directories holding them"
        ) from None
    scorers = [score.name for score in (header.results.scores if header.results else [])]
    if scorers and not any(is_pass_at_1(name) for name in scorers):
        raise ReportError(
            f"{path} is an Inspect log but was not graded by {SCORER} (its scores: {', '.join(scorers)}); "
            "the report needs logs of this project's HumanEval/MBPP tasks"
        )
    return header


# -- reading samples ---------------------------------------------------------------------


def _score_value(sample: EvalSample) -> Any:
    score = pass_at_1_score(sample.scores)
    return None if score is None else score.value


def _passed(sample: EvalSample) -> bool:
    return passed(pass_at_1_score(sample.scores))


def _score_metadata(sample: EvalSample) -> Any:
    score = pass_at_1_score(sample.scores)
    return None if score is None else (score.metadata or {})


EVAL_COLUMNS = [
    c for c in (*EvalInfo, *EvalTask, *EvalModel, *EvalConfiguration, *EvalResults) if c.name in _EVAL_FIELDS
]
SAMPLE_COLUMNS = [
    SampleColumn("id", path="id", required=True, type=str),
    SampleColumn("epoch", path="epoch", required=True, type=int),
    SampleColumn("pipeline", path="metadata.pipeline", full=True),
    SampleColumn("pipeline_name", path="metadata.pipeline_name", full=True),
    SampleColumn("genome", path="metadata.genome", full=True),
    SampleColumn("feedback_mode", path="metadata.feedback_mode", full=True),
    SampleColumn("sample_error", path="error.message", full=True),
    SampleColumn("score_value", path=_score_value, full=True),
    SampleColumn("passed", path=_passed, full=True, type=bool),
    SampleColumn("score_metadata", path=_score_metadata, full=True),
]


def load_logs(paths: Sequence[str | Path]) -> Logs:
    """Every sample of every log under `paths`, labelled for the tables."""
    files = log_files(paths)
    notes: list[str] = []
    for path in files:
        header = check_log(path)
        if header.status != "success":
            notes.append(f"{path}: eval status is '{header.status}'; its finished samples are included.")
    with warnings.catch_warnings():  # inspect_ai's own use of a pandas 3 deprecation, not the user's concern
        warnings.filterwarnings("ignore", message="The inplace keyword")
        raw = samples_df(
            files,
            columns=[*EVAL_COLUMNS, *SAMPLE_COLUMNS],
            full=True,
            quiet=True,
            exclude_fields=_SKIPPED_SAMPLE_FIELDS,
        )
    if raw.empty:
        raise ReportError(f"no samples in {', '.join(files)}: nothing to report")
    order = {path: i for i, path in enumerate(files)}
    rows = raw.to_dict("records")
    metadata = [_json(row.get("score_metadata")) or {} for row in rows]
    traces = [_trace(meta.get("trace"), row["log"]) for row, meta in zip(rows, metadata, strict=True)]
    forced = {row["log"] for row, trace in zip(rows, traces, strict=True) if _refined_after_pass(trace)}
    records = [
        _record(row, meta, trace, order, row["log"] in forced)
        for row, meta, trace in zip(rows, metadata, traces, strict=True)
    ]
    samples = pd.DataFrame.from_records(records)
    samples = _number_configurations(_number_runs(samples))
    unscored = int(samples["unscored"].sum())
    if unscored:
        notes.append(f"{unscored} sample(s) without a {SCORER} score (sample errors) count as failures.")
    legacy = int(samples["legacy"].sum())
    if legacy:
        notes.append(LEGACY_NOTE.format(n=legacy))
    return Logs(samples=samples.drop(columns=["unscored", "legacy"]), files=files, notes=notes)


def _trace(raw: Any, log: str) -> list[IterationRecord] | None:
    """The score metadata's trace as typed records (None when the sample has none)."""
    if not raw:
        return None
    try:
        return [IterationRecord.model_validate(record) for record in raw]
    except (ValidationError, TypeError) as ex:
        reason = (str(ex).splitlines() or [type(ex).__name__])[0]
        raise ReportError(
            f"{log}: a sample's trace does not match this version's IterationRecord ({reason}); "
            "rerun the eval with this version of fof-inspect"
        ) from None


def _refined_after_pass(trace: list[IterationRecord] | None) -> bool:
    """Evidence of early stopping off when `solver_args` lack it (a solver built inside a task)."""
    return any(record.feedback_passed for record in (trace or [])[:-1])


def _genome(raw: Any, log: str) -> Genome | None:
    if not raw:
        return None
    try:
        return Genome.model_validate(_json(raw))
    except ValidationError as ex:
        raise ReportError(f"{log}: a sample's genome metadata is not a valid genome ({ex.errors()[0]['msg']})") from None


def _record(
    row: dict[str, Any], metadata: dict[str, Any], trace: list[IterationRecord] | None, order: dict[str, int],
    forced: bool,
) -> dict[str, Any]:
    """One normalised row from one `samples_df` row and its parsed score metadata."""
    solver_args = _json(row.get("solver_args")) or {}
    early_stop = _flag(solver_args.get("early_stop", True)) and not forced
    feedback = row.get("feedback_mode") or solver_args.get("feedback")
    unscored = row.get("score_value") is None
    error_type = metadata.get("error_type")
    if unscored:
        error_type = "SampleError" if row.get("sample_error") else "NotScored"
    log = str(Path(_local(str(row["log"]))).resolve())
    genome = _genome(row.get("genome"), log)
    description = row.get("pipeline")
    legacy = genome is None and bool(description)
    pipeline = None
    if genome or description:
        name = row.get("pipeline_name") or _pipeline_name(row.get("solver"), solver_args)
        pipeline = Pipeline(name=name, genome=genome, description=description)
    return {
        "log": log,
        "log_order": order.get(log, len(order)),
        "created": row.get("created"),
        "benchmark": str(row["task_name"]),
        "model": row.get("model"),
        "config": configuration_label(
            solver=row.get("solver"),
            solver_args=solver_args,
            model=str(row.get("model") or ""),
            model_roles=_json(row.get("model_roles")) or {},
            pipeline=pipeline,
            early_stop=early_stop,
            feedback=feedback,
        ),
        "pipeline": description,
        "stages": pipeline.stages if pipeline else None,
        "solo": _is_solo(row.get("solver"), pipeline, early_stop, feedback),
        "early_stop": early_stop,
        "feedback": feedback,
        "problem": str(row["id"]),
        "epoch": int(row["epoch"]),
        "passed": bool(row.get("passed")),
        "error_type": error_type,
        "first_error_type": metadata.get("first_error_type", trace[0].error_type if trace else None),
        "trace": trace,
        "unscored": unscored,
        "legacy": legacy,
    }


def _is_solo(solver: str | None, pipeline: Pipeline | None, early_stop: bool, feedback: str | None) -> bool:
    """The paper's baseline: one generation, no feedback (a pipeline without stages, or plain solo)."""
    if pipeline is not None:
        return pipeline.stages == 0
    name = solver.rsplit("/", 1)[-1] if solver else "solo"
    return name.startswith("solo") and early_stop and feedback in (None, "hidden")


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _flag(value: Any) -> bool:
    """`-S early_stop=false` arrives as a YAML-parsed bool, but accept strings too."""
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "no", "off", "0")
    return bool(value)


def _number_runs(samples: pd.DataFrame) -> pd.DataFrame:
    """A run is one epoch of one log; runs are ordered by creation time, then epoch."""
    samples["run"] = samples["log"] + "#" + samples["epoch"].astype(str)
    runs = samples[["run", "created", "log_order", "epoch"]].drop_duplicates("run")
    runs = runs.sort_values(["created", "log_order", "epoch"], na_position="last")
    samples["run_order"] = samples["run"].map({run: i for i, run in enumerate(runs["run"])})
    return samples


def _number_configurations(samples: pd.DataFrame) -> pd.DataFrame:
    """`C1`, `C2`, ... in order of first appearance in the inputs."""
    first = samples.sort_values(["log_order", "epoch"]).drop_duplicates("config")["config"].tolist()
    samples["config_order"] = samples["config"].map({c: i for i, c in enumerate(first)})
    samples["config_id"] = samples["config_order"].map(lambda i: f"C{i + 1}")
    return samples


# -- configuration labels ----------------------------------------------------------------


def short_model(name: str) -> str:
    """`ollama/llama3.2:3b` → `llama3.2:3b`, as the paper writes models."""
    return name.partition("/")[2] or name


@dataclass
class Pipeline:
    """A sample's pipeline: its name and genome (or, in a legacy log, only its description)."""

    name: str
    genome: Genome | None
    description: str | None = None

    @property
    def stages(self) -> int:
        if self.genome is not None:
            return len(self.genome.stages)
        return (self.description or "").count("exec")  # legacy: one executor per stage

    def label(self, model_of: Callable[[str, str | None], str | None]) -> str:
        """`name: topology`, every node showing the model it ran (`model_of(role, genome's model)`)."""
        if self.genome is None:
            return f"{self.name}: {self._legacy_topology(model_of)}"

        def used(role: str, node: NodeGene) -> NodeGene:
            model = model_of(role, node.model)
            return node if model is None else node.model_copy(update={"model": model})

        genome = self.genome.model_copy(
            update={
                "generator": used("generator", self.genome.generator),
                "stages": [
                    stage.model_copy(
                        update={
                            "refiner": used("refiner", stage.refiner),
                            "analyzer": stage.analyzer and used("analyzer", stage.analyzer),
                        }
                    )
                    for stage in self.genome.stages
                ],
            }
        )
        return f"{self.name}: {genome.describe()}"

    def _legacy_topology(self, model_of: Callable[[str, str | None], str | None]) -> str:
        def node(match: re.Match[str]) -> str:
            kind, named = match[1], match[2]
            model = model_of(_LEGACY_ROLE[kind], None if named == "default" else named)
            return f"{kind}({short_model(model) if model else named})"

        return _LEGACY_NODE.sub(node, self.description or "")


def configuration_label(
    *,
    solver: str | None,
    solver_args: dict[str, Any],
    model: str,
    model_roles: dict[str, Any],
    pipeline: Pipeline | None,
    early_stop: bool = True,
    feedback: str | None = None,
) -> str:
    """What distinguishes one configuration: its pipeline (with the models really used) or solver.

    A genome may leave a node's model to the eval; here every node shows the model it ran:
    its `--model-role`, else the genome's, else the eval's.
    """
    if pipeline:

        def model_of(role: str, named: str | None) -> str | None:
            return _role_model(model_roles.get(role)) or named or model or None

        label = pipeline.label(model_of)
    else:
        name = solver.rsplit("/", 1)[-1] if solver else "solo"
        label = f"{name} ({short_model(model)})"
    if not early_stop:
        label += " [no early stop]"
    if feedback and feedback != "hidden":
        label += f" [feedback: {feedback}]"
    return label


def _pipeline_name(solver: str | None, solver_args: dict[str, Any]) -> str:
    """A named pipeline's name, else the genome the generic `pipeline` solver was given."""
    name = (solver or "pipeline").rsplit("/", 1)[-1]
    if name == "pipeline" and solver_args.get("genome"):
        return str(solver_args["genome"])
    return name


def _role_model(role: Any) -> str | None:
    if isinstance(role, list):
        role = role[0] if role else None
    if isinstance(role, dict):
        return role.get("model")
    return role if isinstance(role, str) else None
