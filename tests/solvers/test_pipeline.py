"""Pipelines end to end: the real `ollama/` provider over HTTP to a fake Ollama server,
programs graded in the real Docker sandbox."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from inspect_ai import Task, eval

from fof_inspect.genome import Genome
from fof_inspect.solvers import champion, cross_model, pipeline, self_refine
from support.pipelines import BROKEN, PROBLEM, REPO, RIGHT, cli, humaneval_script, refiner_sequence, square_task
from support.scripted_model import Script, fenced, node_kind

pytestmark = pytest.mark.usefixtures("docker_sandbox")

def run(task: Task, solver, log_dir: Path, **kwargs):
    [log] = eval(task, solver=solver, model="ollama/llama3.2:3b", log_dir=str(log_dir), display="none", **kwargs)
    assert log.status == "success", log.error
    return log, log.samples[0].scores["pass_at_1"]


def kinds(server) -> list[str]:
    return [node_kind(r) for r in server.requests]


def test_refiner_fixes_a_wrong_first_answer_and_early_stopping_stops(fake_ollama, tmp_path: Path) -> None:
    server = fake_ollama(Script([PROBLEM], refiner_sequence(RIGHT, BROKEN, BROKEN)))
    log, score = run(square_task(), self_refine(), tmp_path)
    assert score.value == "C"
    assert kinds(server) == ["generator", "refiner"]  # no refiner call after the pass
    assert score.metadata["iterations"] == 1
    assert score.metadata["first_error_type"] == "AssertionError"
    assert score.metadata["final_error_type"] is None
    assert [(r["passed"], r["produced_by"]) for r in score.metadata["trace"]] == [
        (False, "generator"),
        (True, "refiner@1.1"),
    ]


def test_without_early_stopping_refining_continues_and_the_trace_shows_the_regression(
    fake_ollama, tmp_path: Path
) -> None:
    server = fake_ollama(Script([PROBLEM], refiner_sequence(RIGHT, BROKEN, BROKEN)))
    log, score = run(square_task(), self_refine(early_stop=False), tmp_path)
    assert kinds(server) == ["generator", "refiner", "refiner", "refiner"]
    assert [r["passed"] for r in score.metadata["trace"]] == [False, True, False, False]
    assert score.value == "I" and score.metadata["iterations"] == 3
    assert log.eval.solver_args.get("early_stop") is False


def test_the_scorer_takes_the_final_checks_verdict_instead_of_running_the_code_again(
    fake_ollama, tmp_path: Path
) -> None:
    fake_ollama(Script([PROBLEM], refiner_sequence(RIGHT, BROKEN, BROKEN)))
    for early_stop, verdict in ((True, "C"), (False, "I")):
        log, score = run(square_task(), self_refine(early_stop=early_stop), tmp_path / str(early_stop))
        execs = [e for e in log.samples[0].events if e.event == "sandbox" and e.action == "exec"]
        assert len(execs) == len(score.metadata["trace"])  # one per executor, none more by the scorer
        assert score.value == verdict and score.metadata["trace"][-1]["passed"] == (verdict == "C")
        assert score.metadata["code_hash"] == score.metadata["trace"][-1]["code_hash"]


def test_cross_model_routes_each_node_to_its_model(fake_ollama, tmp_path: Path) -> None:
    server = fake_ollama(Script([PROBLEM], refiner_sequence(RIGHT)))
    run(square_task(), cross_model(), tmp_path)
    assert [(node_kind(r), r.model) for r in server.requests] == [
        ("generator", "qwen2.5:1.5b"),
        ("refiner", "llama3.2:3b"),
    ]
    generator_request = server.requests[0]
    assert generator_request.temperature == 0.7 and generator_request.max_tokens == 1024


def test_champion_analysis_reaches_the_refiner(fake_ollama, tmp_path: Path) -> None:
    server = fake_ollama(Script([PROBLEM], refiner_sequence(RIGHT)))
    _, score = run(square_task(), champion(), tmp_path)
    assert [(node_kind(r), r.model) for r in server.requests] == [
        ("generator", "qwen2.5:1.5b"),
        ("analyzer", "llama3.2:3b"),
        ("refiner", "llama3.2:3b"),
    ]
    assert "ANALYSIS-7f3" in server.requests[2].last_user
    assert "return x + x" in server.requests[1].last_user  # the analyzer saw the failed code
    assert score.value == "C"


def test_model_roles_override_the_genome(fake_ollama, tmp_path: Path) -> None:
    server = fake_ollama(Script([PROBLEM], refiner_sequence(RIGHT)))
    run(square_task(), self_refine(), tmp_path, model_roles={"refiner": "ollama/qwen2.5:1.5b"})
    assert [(node_kind(r), r.model) for r in server.requests] == [
        ("generator", "llama3.2:3b"),
        ("refiner", "qwen2.5:1.5b"),
    ]


def test_stages_chain_the_last_code_of_one_stage_into_the_next(fake_ollama, tmp_path: Path) -> None:
    genome = Genome.from_yaml(
        """
generator: {model: ollama/llama3.2:3b, prompt: plain, temperature: 0.2}
stages:
  - {innovation: 0, max_iterations: 1, refiner: {model: ollama/llama3.2:3b, prompt: fix, temperature: 0.2}}
  - {innovation: 1, max_iterations: 1, refiner: {model: ollama/qwen2.5:1.5b, prompt: rewrite, temperature: 0.2}}
"""
    )
    path = tmp_path / "two_stages.yaml"
    genome.save(path)
    stage1 = "def square(x):\n    # stage-one-attempt\n    return x - x"
    server = fake_ollama(Script([PROBLEM], refiner_sequence(stage1, RIGHT)))
    _, score = run(square_task(), pipeline(genome=str(path)), tmp_path)
    assert [r.model for r in server.requests] == ["llama3.2:3b", "llama3.2:3b", "qwen2.5:1.5b"]
    assert "stage-one-attempt" in server.requests[2].last_user
    assert [(r["stage"], r["passed"]) for r in score.metadata["trace"]] == [(1, False), (2, False), (3, True)]


def test_public_feedback_never_shows_a_hidden_test_and_hidden_does(fake_ollama, tmp_path: Path) -> None:
    server = fake_ollama(Script([PROBLEM], refiner_sequence(RIGHT)))
    run(square_task(), self_refine(feedback="public"), tmp_path / "public")
    public_refiner = server.requests[1].last_user
    assert "square(3) == 9" in public_refiner and "square(7)" not in public_refiner
    server = fake_ollama(Script([PROBLEM], refiner_sequence(RIGHT)))
    log, _ = run(square_task(), self_refine(feedback="hidden"), tmp_path / "hidden")
    assert "square(7) == 49" in server.requests[1].last_user
    assert log.samples[0].metadata["feedback_mode"] == "hidden"


def test_public_mode_shows_mbpp_only_its_first_test(fake_ollama, tmp_path: Path, data_dir: str) -> None:
    from fof_inspect.tasks.mbpp import mbpp

    server = fake_ollama(lambda request: fenced("def nothing(): pass"))
    task = mbpp(data_dir=data_dir)
    [log] = eval(task, solver=self_refine(feedback="public"), model="ollama/llama3.2:3b", limit=1,
                 log_dir=str(tmp_path), display="none")
    sample = log.samples[0]
    first, *others = sample.metadata["tests"].splitlines()
    assert first in server.requests[0].last_user
    assert all(test not in request.last_user for request in server.requests for test in others)


def test_champion_on_humaneval_exactly_as_the_readme_says(fake_ollama, tmp_path: Path) -> None:
    server = fake_ollama(humaneval_script())
    done = cli(["tasks/humaneval.py", "--solver", "champion", "--model", "ollama/llama3.2:3b", "--limit", "2",
                "--log-dir", str(tmp_path)], server.base_url)
    assert done.returncode == 0, done.stderr[-3000:]
    [log] = list(tmp_path.glob("*.eval"))
    from inspect_ai.log import read_eval_log

    scores = [s.scores["pass_at_1"] for s in read_eval_log(str(log)).samples]
    assert [s.value for s in scores] == ["C", "C"], [s.metadata for s in scores]
    assert {r.model for r in server.requests} == {"qwen2.5:1.5b", "llama3.2:3b"}


OTHER_TASK = '''
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.util import SandboxEnvironmentSpec
from fof_inspect.scorers.pass_at_1 import pass_at_1

@task
def other():
    return Task(
        dataset=MemoryDataset([Sample(id="sq", input="Write square(x) returning x squared.",
                                      metadata={"tests": "assert square(7) == 49", "entry_point": "square"})]),
        scorer=pass_at_1(),
        sandbox=SandboxEnvironmentSpec("fof_docker"),
    )
'''


def test_self_refine_serves_another_inspect_task_and_genome_files(fake_ollama, tmp_path: Path) -> None:
    server = fake_ollama(Script([PROBLEM], refiner_sequence(RIGHT)))
    (tmp_path / "other.py").write_text(OTHER_TASK)
    done = cli(["other.py", "--solver", "fof_inspect/self_refine", "--model", "ollama/llama3.2:3b",
                "--log-dir", str(tmp_path / "logs")], server.base_url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert kinds(server) == ["generator", "refiner"]
    genome = tmp_path / "mine.yaml"
    genome.write_text((REPO / "solvers" / "pipelines" / "cross_model.yaml").read_text())
    done = cli(["other.py", "--solver", "fof_inspect/pipeline", "-S", f"genome={genome}", "--model",
                "ollama/llama3.2:3b", "--log-dir", str(tmp_path / "logs")], server.base_url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert server.requests[-2].model == "qwen2.5:1.5b"


def test_ollama_down_is_one_clear_error_fast(tmp_path: Path) -> None:
    started = time.monotonic()
    done = cli(["tasks/humaneval.py", "--solver", "champion", "--model", "ollama/llama3.2:3b", "--limit", "1",
                "--log-dir", str(tmp_path)], "http://127.0.0.1:9/v1")
    assert done.returncode != 0
    assert "Ollama is not answering at http://127.0.0.1:9" in done.stdout + done.stderr
    assert time.monotonic() - started < 60


def test_model_not_pulled_says_what_to_pull(fake_ollama, tmp_path: Path) -> None:
    server = fake_ollama(lambda request: "", models={"llama3.2:3b"})
    done = cli(["tasks/humaneval.py", "--solver", "champion", "--model", "ollama/llama3.2:3b", "--limit", "1",
                "--log-dir", str(tmp_path)], server.base_url)
    assert done.returncode != 0
    assert "ollama pull qwen2.5:1.5b" in done.stdout + done.stderr
    assert server.requests == []


def test_malformed_genome_names_the_field(fake_ollama, tmp_path: Path) -> None:
    server = fake_ollama(lambda request: "", models={"llama3.2:3b"})  # the task's preflight passes
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "solvers" / "pipelines" / "self_refine.yaml").read_text().replace("max_iterations: 3", "max_iterations: 5"))
    done = cli(["tasks/humaneval.py", "--solver", "pipeline", "-S", f"genome={bad}", "--model", "ollama/llama3.2:3b",
                "--limit", "1", "--log-dir", str(tmp_path)], server.base_url)
    assert done.returncode != 0
    assert "stages[0].max_iterations" in done.stdout + done.stderr
