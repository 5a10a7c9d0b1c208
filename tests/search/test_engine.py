"""The search engine without model or sandbox work: settings, checkpoints, errors and display.

Genome evaluation is replaced by a stand-in (the end-to-end runs are in tests/search/test_evolve.py),
so these tests run without Docker; the fake Ollama only answers the pipelines' preflight.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import pytest
from fof_inspect.compat import PrerequisiteError
from inspect_ai.log import EvalConfig, EvalDataset, EvalError, EvalLog, EvalSpec

from fof_inspect.cli_evolve import add_evolve_arguments, config_from_args
from fof_inspect.cli_evolve import main as evolve
from fof_inspect.search import engine, evaluation
from fof_inspect.search.checkpoint import RunState
from fof_inspect.search.config import RunConfig
from fof_inspect.search.evaluation import GenomeEvaluation, GenomeEvaluationError, evaluate_genomes

POOL = ["ollama/good:1b", "ollama/bad:1b"]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_evolve_arguments(parser)
    return parser.parse_args(list(argv))


def small_run(run_dir: Path, *extra: str) -> list[str]:
    return ["--models", ",".join(POOL), "--run-dir", str(run_dir), "--population", "4", "--generations", "2",
            "--subset", "3", "--evals", "2", "--validate-runs", "0", *extra]


@pytest.fixture
def evaluated(monkeypatch: pytest.MonkeyPatch, fake_ollama) -> list[dict]:
    """Genome evaluations replaced by a stand-in that records how Inspect would have been called."""
    fake_ollama(lambda request: "no code", models={m.split("/", 1)[1] for m in POOL})
    calls: list[dict] = []

    def stand_in(tasks, log_dir, model, **eval_args):
        calls.append({"genomes": sorted(tasks), "log_dir": log_dir, "model": model, **eval_args})
        rng = random.Random(len(calls))
        return {gid: GenomeEvaluation(genome_id=gid, log="", runs=[rng.randint(0, 3), rng.randint(0, 3)],
                                      model_calls=4, cache_reads=1) for gid in tasks}

    monkeypatch.setattr(engine, "evaluate_genomes", stand_in)
    return calls


def test_the_command_line_defaults_are_the_run_configs() -> None:
    config = config_from_args(parse())
    assert config == RunConfig()
    assert config.models == ["ollama/gemma3:1b", "ollama/qwen2.5:1.5b", "ollama/llama3.2:3b"]
    assert config_from_args(parse("--models", "ollama/a:1b, ollama/b:2b", "--population", "6")).models == [
        "ollama/a:1b", "ollama/b:2b"
    ]


def test_an_invalid_setting_is_one_line_naming_the_option() -> None:
    with pytest.raises(PrerequisiteError, match="^--models: .*empty"):
        config_from_args(parse("--models", " , "))


def test_display_none_prints_only_the_generation_lines(evaluated, tmp_path: Path, capsys) -> None:
    assert evolve(small_run(tmp_path / "run", "--display", "none")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["gen 1/2", "gen 1", "gen 2/2", "gen 2"]
    assert "best" in lines[1] and "champion" in lines[3]
    assert [call["display"] for call in evaluated] == ["none", "none"]


def test_by_default_inspect_shows_each_genome_s_progress(evaluated, tmp_path: Path) -> None:
    assert evolve(small_run(tmp_path / "run")) == 0
    assert [call["display"] for call in evaluated] == ["full", "full"]
    assert all(len(call["genomes"]) == 4 for call in evaluated)


def test_a_resumed_run_keeps_its_settings_and_history(evaluated, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    assert evolve(small_run(run_dir, "--generations", "1")) == 0
    state = RunState.load(run_dir)
    assert state.generation == 1 and len(state.history) == 1 and state.species
    data = json.loads((run_dir / "state.json").read_text())
    data["config"]["generations"] = 2  # as if the run had been started for two and stopped after one
    (run_dir / "state.json").write_text(json.dumps(data))
    assert evolve(["--resume", str(run_dir), "--display", "none"]) == 0
    state = RunState.load(run_dir)
    assert state.generation == 2 and [h.generation for h in state.history] == [1, 2]
    assert state.config.population == 4 and state.config.models == POOL
    history = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]
    assert [h["generation"] for h in history] == [1, 2]


def test_a_checkpoint_of_the_flat_layout_still_resumes(evaluated, tmp_path: Path) -> None:
    """state.json as the search wrote it before fof_inspect/search/ (config a dict, SpeciesState)."""
    run_dir = tmp_path / "run"
    assert evolve(small_run(run_dir, "--generations", "1")) == 0
    data = json.loads((run_dir / "state.json").read_text())
    old_config = {**data["config"], "resume": None}  # the old writer kept every argparse value
    old_config.pop("run_dir")
    data["config"] = old_config
    (run_dir / "state.json").write_text(json.dumps(data))
    state = RunState.load(run_dir)
    assert state.config.models == POOL and state.species[0].members


def test_an_unreadable_checkpoint_is_one_line_saying_what_to_do(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "state.json").write_text(json.dumps({"config": {"models": "x"}, "population": {}}))
    assert evolve(["--resume", str(run_dir)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "cannot be resumed" in line and "fof evolve --run-dir" in line


def test_a_failed_genome_evaluation_is_one_line_with_the_resume_command(
    monkeypatch: pytest.MonkeyPatch, fake_ollama, tmp_path: Path, capsys
) -> None:
    fake_ollama(lambda request: "no code", models={m.split("/", 1)[1] for m in POOL})

    def failing_eval(tasks, **kwargs) -> list[EvalLog]:
        spec = EvalSpec(created="2026-12-02T00:00:00+00:00", task="genome-g000-00", dataset=EvalDataset(),
                        model=POOL[0], config=EvalConfig())
        error = EvalError(message="RuntimeError: the sandbox went away\nand a second line", traceback="tb",
                          traceback_ansi="tb")
        return [EvalLog(eval=spec, status="error", error=error)]

    monkeypatch.setattr(evaluation, "eval", failing_eval)
    run_dir = tmp_path / "run"
    assert evolve(small_run(run_dir, "--display", "none")) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("fof evolve: 1 genome evaluation(s) did not finish (genome-g000-00: RuntimeError: the sandbox")
    assert f"fof evolve --resume {run_dir}" in line
    assert RunState.load(run_dir).generation == 0  # nothing lost: the run resumes where it stopped


def test_evaluate_genomes_raises_the_typed_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    spec = EvalSpec(created="2026-12-02T00:00:00+00:00", task="genome-a", dataset=EvalDataset(), model="m",
                    config=EvalConfig())
    monkeypatch.setattr(evaluation, "eval", lambda tasks, **kwargs: [EvalLog(eval=spec, status="cancelled")])
    with pytest.raises(GenomeEvaluationError, match=r"genome-a: cancelled"):
        evaluate_genomes({"a": object()}, tmp_path / "gen", model="m")
