"""`fof evolve` end to end: fake Ollama over HTTP, programs graded in the Docker sandbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from inspect_ai import eval
from inspect_ai.log import list_eval_logs, read_eval_log

from fof_inspect.datasets import humaneval_dataset
from fof_inspect.cli_evolve import main as evolve
from fof_inspect.genome import load_genome
from fof_inspect.solvers import pipeline
from fof_inspect.tasks.humaneval import humaneval
from support.scripted_model import fenced, node_kind

pytestmark = pytest.mark.usefixtures("docker_sandbox")

REFERENCES = {s.metadata["prompt"]: s.metadata["reference"] for s in humaneval_dataset()}
POOL = ["ollama/good:1b", "ollama/bad:1b", "ollama/worse:1b"]
PULLED = {"good:1b", "bad:1b", "worse:1b"}


def only_good_refiner_fixes(request) -> str:
    """Drafts are always wrong; only the refiner (or analyzer-led refiner) on good:1b fixes them."""
    problem = next((p for p in REFERENCES if p in request.last_user), None)
    if node_kind(request) == "refiner" and request.model == "good:1b" and problem:
        return fenced(REFERENCES[problem])
    if node_kind(request) == "analyzer":
        return "The function body is missing."
    return fenced("def unrelated():\n    return None")


def args(run_dir: Path, *extra: str) -> list[str]:
    return ["--models", ",".join(POOL), "--run-dir", str(run_dir), "--subset", "3", "--seed", "7", *extra]


def success_logs(directory: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for info in list_eval_logs(str(directory), recursive=False):
        header = read_eval_log(info, header_only=True)
        if header.status == "success":
            found.setdefault(header.eval.metadata["genome_id"], []).append(info.name)
    return found


def test_two_generations_write_logs_a_champion_and_a_checkpoint(fake_ollama, tmp_path: Path) -> None:
    fake_ollama(only_good_refiner_fixes, models=PULLED)
    run_dir = tmp_path / "run"
    assert evolve(args(run_dir, "--population", "4", "--generations", "2", "--evals", "3", "--validate-runs", "0")) == 0

    state = json.loads((run_dir / "state.json").read_text())
    assert state["generation"] == 2 and len(state["history"]) == 2
    for g in (0, 1):
        logs = [read_eval_log(info) for info in list_eval_logs(str(run_dir / f"gen-{g:03d}"), recursive=False)]
        assert len(logs) == 4 and all(log.status == "success" for log in logs)
        for log in logs:  # --evals 3: three evaluations of the same 3 problems per genome
            assert log.eval.config.epochs == 3 and len(log.samples) == 9
            assert {s.epoch for s in log.samples} == {1, 2, 3}
        assert len({frozenset(str(s.id) for s in log.samples) for log in logs}) == 1  # same problems
    history = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]
    assert [h["generation"] for h in history] == [1, 2]
    assert all({"best", "mean", "species", "threshold", "champion", "cache_saved_calls"} <= set(h) for h in history)

    champion = load_genome(run_dir / "champion.yaml")
    [log] = eval(humaneval(solver=pipeline(genome=str(run_dir / "champion.yaml"))), model=POOL[0], limit=1,
                 log_dir=str(tmp_path / "check"), display="none")
    assert log.status == "success" and champion.describe() in log.samples[0].metadata["pipeline"]


def test_the_better_refiner_model_wins_and_the_champion_is_validated(fake_ollama, tmp_path: Path) -> None:
    fake_ollama(only_good_refiner_fixes, models=PULLED)
    run_dir = tmp_path / "run"
    assert evolve(args(run_dir, "--population", "6", "--generations", "3", "--evals", "1", "--validate-runs", "2")) == 0
    champion = load_genome(run_dir / "champion.yaml")
    assert any(stage.refiner.model == "ollama/good:1b" for stage in champion.stages), champion.describe()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["validation"]["benchmark_size"] == 164 and len(summary["validation"]["runs"]) == 2
    assert summary["validation"]["runs"] == [164, 164]


def slow_for_bad_models(request) -> str:
    if request.model != "good:1b":
        time.sleep(1.5)
    return only_good_refiner_fixes(request)


def test_resume_after_a_kill_mid_generation_repeats_no_evaluation(fake_ollama, tmp_path: Path) -> None:
    server = fake_ollama(slow_for_bad_models, models=PULLED)
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "fof_inspect.cli_evolve",
               *args(run_dir, "--population", "4", "--generations", "2", "--evals", "1", "--validate-runs", "0")]
    proc = subprocess.Popen(command, env={**os.environ, "OLLAMA_BASE_URL": server.base_url},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gen0 = run_dir / "gen-000"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not (gen0.exists() and success_logs(gen0)):
            time.sleep(0.3)
        finished = success_logs(gen0)
        assert finished, "no genome evaluation finished in time"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    state = json.loads((run_dir / "state.json").read_text())
    assert state["generation"] == 0 and len(finished) < 4, "the kill came too late to test a mid-generation resume"
    finished_files = {name for names in finished.values() for name in names}

    assert evolve(["--resume", str(run_dir)]) == 0
    after = success_logs(gen0)
    assert sorted(after) == sorted(state["population"])  # every genome evaluated ...
    assert all(len(names) == 1 for names in after.values())  # ... exactly once
    assert finished_files <= {name for names in after.values() for name in names}  # nothing lost
    assert json.loads((run_dir / "state.json").read_text())["generation"] == 2


def test_a_cached_refiner_asked_the_same_prompt_again_is_sampled_again(fake_ollama, tmp_path: Path) -> None:
    """A refiner that returns the code unchanged gets the same prompt at its next iteration:
    each (stage, iteration) is its own cache draw, so the model is asked every time, as
    without a cache, instead of the cache handing back the last answer."""
    from inspect_ai.model import CachePolicy

    from fof_inspect.search.evaluation import evaluate_genomes, genome_task
    from fof_inspect.solvers.presets import named_genome

    server = fake_ollama(only_good_refiner_fixes)  # llama3.2:3b's refiner never changes the code
    genome = named_genome("self_refine")
    dataset = humaneval_dataset()
    problems = [str(s.id) for s in list(dataset)[:2]]
    cache = CachePolicy(expiry=None, per_epoch=True, scopes={"test": str(tmp_path)})
    evaluate_genomes({"a": genome_task(dataset, "a", genome, problems, evals=1, cache=cache)}, tmp_path / "gen",
                     model="ollama/llama3.2:3b", display="none")
    refinements = [r for r in server.requests if node_kind(r) == "refiner"]
    iterations = genome.stages[0].max_iterations
    assert iterations > 1 and len(refinements) == len(problems) * iterations
    prompts = {r.last_user for r in refinements}
    assert len(prompts) == len(problems)  # the same prompt at every iteration, each sent to the model


def test_genomes_sharing_a_generator_share_its_drafts_when_evaluated_together(fake_ollama, tmp_path: Path) -> None:
    """Common random numbers: concurrent identical cached calls reach the model once."""
    from inspect_ai.model import CachePolicy

    from fof_inspect.search.evaluation import evaluate_genomes, genome_task
    from fof_inspect.solvers.presets import named_genome

    server = fake_ollama(only_good_refiner_fixes)
    genome = named_genome("self_refine")
    dataset = humaneval_dataset()
    problems = [str(s.id) for s in list(dataset)[:3]]
    cache = CachePolicy(expiry=None, per_epoch=True, scopes={"test": str(tmp_path)})
    tasks = {gid: genome_task(dataset, gid, genome, problems, evals=2, cache=cache) for gid in ("a", "b", "c")}
    results = evaluate_genomes(tasks, tmp_path / "gen", model="ollama/llama3.2:3b", display="none")
    drafts = [r for r in server.requests if node_kind(r) == "generator"]
    assert len(drafts) == 3 * 2  # one per problem and evaluation, not per genome
    assert sum(r.cache_reads for r in results.values()) >= 2 * 3 * 2
