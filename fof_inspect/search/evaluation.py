"""Evaluating genomes: one Inspect task per genome, a whole generation in one eval call.

Each genome's evaluation is an Inspect eval log in the generation's directory (so it opens
in Inspect View) and is also the search's checkpoint: a finished log is never run again.
Its fitness data are the pass counts of its `evals` independent evaluations (epochs).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from inspect_ai import Epochs, Task, eval, task_with
from fof_inspect.compat import PrerequisiteError
from inspect_ai.dataset import Dataset
from inspect_ai.event import ModelEvent
from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log
from inspect_ai.model import CachePolicy
from pydantic import BaseModel

from fof_inspect.benchmark_task import benchmark_task
from fof_inspect.datasets import humaneval_dataset, mbpp_dataset
from fof_inspect.genome import Genome
from fof_inspect.scorers.pass_at_1 import pass_at_1_score, passed
from fof_inspect.search.config import Benchmark, Regime
from fof_inspect.solvers.pipeline import pipeline


class GenomeEvaluation(BaseModel):
    """What one genome scored in one generation."""

    genome_id: str
    log: str
    runs: list[int]
    """Problems solved in each independent evaluation."""
    model_calls: int
    cache_reads: int
    """Model calls answered from the generation cache (common random numbers)."""

    @property
    def fitness(self) -> float:
        """Mean problems solved over the evaluations (before parsimony and sharing)."""
        return sum(self.runs) / len(self.runs) if self.runs else 0.0


class GenomeEvaluationError(PrerequisiteError):
    """A genome's eval ended in error: the run stops, resumable, with one line on what went wrong."""


def benchmark_dataset(benchmark: Benchmark, data_dir: str | None) -> Dataset:
    if benchmark == "humaneval":
        return humaneval_dataset()
    if benchmark == "mbpp":
        return mbpp_dataset(data_dir=data_dir)
    raise ValueError(f"unknown benchmark {benchmark!r} (humaneval or mbpp)")


def genome_task(
    dataset: Dataset,
    genome_id: str,
    genome: Genome,
    problems: list[str],
    evals: int,
    regime: Regime = "stochastic",
    cache: bool | CachePolicy = False,
    max_containers: int | None = None,
) -> Task:
    """The benchmark restricted to `problems`, solved by the genome's pipeline `evals` times;
    `max_containers`: the sandbox containers all genomes of a generation share (fof_docker)."""
    spec = genome.with_temperature(0.0) if regime == "deterministic" else genome
    wanted = set(problems)
    task = benchmark_task(dataset.filter(lambda sample: sample.id in wanted), pipeline(genome=spec, cache=cache),
                          max_containers=max_containers)
    return task_with(
        task,
        epochs=Epochs(evals, "mean"),
        name=f"genome-{genome_id}",
        metadata={"genome_id": genome_id, "genome": spec.model_dump(mode="json"), "pipeline": spec.describe()},
    )


def evaluation_from_log(log: EvalLog) -> GenomeEvaluation:
    genome_id = (log.eval.metadata or {})["genome_id"]
    solved: Counter[int] = Counter()
    calls = reads = 0
    for sample in log.samples or []:
        solved[sample.epoch] += passed(pass_at_1_score(sample.scores))
        for event in sample.events:
            if isinstance(event, ModelEvent):
                calls += 1
                reads += event.cache == "read"
    epochs = log.eval.config.epochs or 1
    return GenomeEvaluation(
        genome_id=genome_id,
        log=log.location,
        runs=[solved[e] for e in range(1, epochs + 1)],
        model_calls=calls,
        cache_reads=reads,
    )


def finished_evaluations(log_dir: Path) -> dict[str, GenomeEvaluation]:
    """Genome evaluations whose logs are complete (status success) in `log_dir`."""
    if not log_dir.exists():
        return {}
    done: dict[str, GenomeEvaluation] = {}
    for info in list_eval_logs(str(log_dir), recursive=False):
        header = read_eval_log(info, header_only=True)
        genome_id = (header.eval.metadata or {}).get("genome_id")
        if header.status == "success" and genome_id:
            done[genome_id] = evaluation_from_log(read_eval_log(info))
    return done


def evaluate_genomes(
    tasks: dict[str, Task], log_dir: Path, model: str, max_tasks: int | None = None, **eval_args
) -> dict[str, GenomeEvaluation]:
    """Evaluate every genome not yet finished in `log_dir`, all concurrently through Inspect."""
    done = finished_evaluations(log_dir)
    todo = [task for genome_id, task in tasks.items() if genome_id not in done]
    if todo:
        logs = eval(todo, model=model, log_dir=str(log_dir), max_tasks=max_tasks or len(todo), **eval_args)
        failed = [log for log in logs if log.status != "success"]
        if failed:
            reasons = "; ".join(f"{log.eval.task}: {_first_line(log)}" for log in failed)
            raise GenomeEvaluationError(f"{len(failed)} genome evaluation(s) did not finish ({reasons})")
        # eval() returns the logs with their samples: no need to read them back from disk
        done.update((evaluation.genome_id, evaluation) for evaluation in map(evaluation_from_log, logs))
    return {genome_id: done[genome_id] for genome_id in tasks}


def _first_line(log: EvalLog) -> str:
    """The failed eval's error on one line (the traceback stays in its log)."""
    message = log.error.message if log.error else log.status
    return (str(message).strip().splitlines() or [log.status])[0][:300]
