"""The pipelines as solvers of tasks that are not fof's (tests/support/foreign_tasks.py, written
the way inspect_evals writes humaneval and mbpp): the task's own scorer is the
executor's oracle and gives the final score; fof's tasks keep fof's grader."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.log import EvalLog, EvalSample, read_eval_log
from inspect_ai.scorer import Score

from fof_inspect.solvers import champion, pipeline, self_refine, solo
from fof_inspect.solvers.oracle import failure_feedback, score_passed
from support.foreign_tasks import foreign_humaneval, foreign_mbpp
from support.scripted_model import Script, fenced, node_kind

pytestmark = pytest.mark.usefixtures("docker_sandbox")


@pytest.fixture(autouse=True)
def python_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The humaneval-like scorer runs `python -c` in the local sandbox: make that this
    interpreter, not a slower shim."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")

TESTS = Path(__file__).resolve().parents[1]
RIGHT = {
    "def triple": "def triple(x):\n    return x * 3",
    "def shout": "def shout(s):\n    return s.upper() + '!'",
    "named bigger": "def bigger(a, b):\n    return max(a, b)",
}
WRONG = {
    "def triple": "def triple(x):\n    return x + 3",
    "def shout": "def shout(s):\n    return s.upper()",
    "named bigger": "def bigger(a, b):\n    return a",
}


def script(generator_right: set[str] = frozenset(), refiner_fixes_at: int = 1) -> Script:
    """Generator: right for the problems in `generator_right`, else wrong; the refiner's
    `refiner_fixes_at`-th call per problem gives the right code (wrong before)."""

    def answer(kind: str, problem: str, n: int) -> str:
        if kind == "generator":
            return fenced(RIGHT[problem] if problem in generator_right else WRONG[problem])
        if kind == "analyzer":
            return "ANALYSIS-4c1: look at the failing assertion."
        return fenced(RIGHT[problem] if n >= refiner_fixes_at else WRONG[problem])

    return Script(list(RIGHT), answer)


def run(task: Task, solver, log_dir: Path, **kwargs) -> EvalLog:
    [log] = eval(task, solver=solver, model="ollama/llama3.2:3b", log_dir=str(log_dir), display="none", **kwargs)
    return log


def by_id(log: EvalLog) -> dict[str, EvalSample]:
    return {str(s.id): s for s in log.samples or []}


def trace(sample: EvalSample) -> list[tuple[str, bool]]:
    return [(r["produced_by"], r["passed"]) for r in sample.store["PipelineState:trace"]]


def test_self_refine_refines_a_failed_draft_from_the_foreign_scorer_and_never_a_passing_one(
    fake_ollama, tmp_path: Path
) -> None:
    model = script(generator_right={"def shout"})
    server = fake_ollama(model)
    log = run(foreign_humaneval(), self_refine(), tmp_path)
    assert log.status == "success", log.error
    failed_first, passed_first = by_id(log)["Foreign/0"], by_id(log)["Foreign/1"]
    assert model.calls["refiner", "def triple"] == 1 and model.calls["refiner", "def shout"] == 0
    assert trace(failed_first) == [("generator", False), ("refiner@1.1", True)]
    assert trace(passed_first) == [("generator", True)]
    for sample in (failed_first, passed_first):
        assert sample.scores["verify"].value == "C"  # the foreign scorer's own final score
        assert sample.metadata["oracle"] == "task_scorer"
        assert sample.store["PipelineState:oracle"] == "task_scorer"
        assert sample.output.completion.startswith("```python\n")
    [refiner_request] = [r for r in server.requests if node_kind(r) == "refiner"]
    assert "The submission was incorrect" in refiner_request.last_user  # the scorer's explanation
    assert "AssertionError" in refiner_request.last_user
    assert failed_first.store["PipelineState:trace"][0]["error_type"] == "AssertionError"


def test_champion_on_a_foreign_mbpp_analyzes_and_refines_from_its_scorer(fake_ollama, tmp_path: Path) -> None:
    model = script()
    server = fake_ollama(model)
    log = run(foreign_mbpp(), champion(), tmp_path)
    assert log.status == "success", log.error
    [sample] = log.samples
    assert [r.model for r in server.requests] == ["qwen2.5:1.5b", "llama3.2:3b", "llama3.2:3b"]
    assert "Code did not pass all test cases" in server.requests[1].last_user  # the analyzer saw it
    assert "ANALYSIS-4c1" in server.requests[2].last_user
    assert sample.scores["mbpp_verify"].value == "C"
    assert trace(sample) == [("generator", False), ("refiner@1.1", True)]


def test_solo_on_foreign_tasks_is_scored_by_their_scorers(fake_ollama, tmp_path: Path) -> None:
    fake_ollama(script(generator_right={"def triple"}))
    humaneval = run(foreign_humaneval(), solo(), tmp_path)
    mbpp = run(foreign_mbpp(), solo(), tmp_path)
    assert {i: s.scores["verify"].value for i, s in by_id(humaneval).items()} == {"Foreign/0": "C", "Foreign/1": "I"}
    assert "The submission was incorrect" in by_id(humaneval)["Foreign/1"].scores["verify"].explanation
    assert mbpp.samples[0].scores["mbpp_verify"].value == "I"


def test_without_early_stopping_a_foreign_task_keeps_refining_and_keeps_its_score(
    fake_ollama, tmp_path: Path
) -> None:
    model = script(generator_right={"def triple"})
    fake_ollama(model)
    [sample] = run(foreign_humaneval(), self_refine(early_stop=False), tmp_path, limit=1).samples
    assert model.calls["refiner", "def triple"] == 3
    assert trace(sample) == [("generator", True), ("refiner@1.1", True), ("refiner@1.2", True), ("refiner@1.3", True)]
    assert sample.scores["verify"].value == "C"


def test_a_refiner_that_never_fixes_ends_with_the_foreign_scorers_failure(fake_ollama, tmp_path: Path) -> None:
    fake_ollama(script(refiner_fixes_at=99))
    [sample] = run(foreign_humaneval(), self_refine(), tmp_path, limit=1).samples
    assert [passed for _, passed in trace(sample)] == [False] * 4
    assert sample.scores["verify"].value == "I"
    assert "AssertionError" in sample.scores["verify"].explanation


def test_model_roles_and_genome_files_work_on_a_foreign_task(fake_ollama, tmp_path: Path) -> None:
    server = fake_ollama(script())
    genome = tmp_path / "mine.yaml"
    genome.write_text((TESTS.parent / "solvers" / "pipelines" / "cross_model.yaml").read_text())
    log = run(foreign_mbpp(), pipeline(genome=str(genome)), tmp_path, model_roles={"refiner": "ollama/qwen2.5:1.5b"})
    assert [r.model for r in server.requests] == ["qwen2.5:1.5b", "qwen2.5:1.5b"]
    assert log.samples[0].scores["mbpp_verify"].value == "C"


def test_a_foreign_task_without_a_scorer_is_one_clear_error(fake_ollama, tmp_path: Path) -> None:
    fake_ollama(script())
    task = foreign_mbpp()
    log = run(Task(dataset=task.dataset, sandbox=task.sandbox), self_refine(), tmp_path)
    assert log.status == "error"
    assert "this task has no scorer and its samples lack fof's `tests`" in log.error.message


def test_public_feedback_on_a_foreign_task_is_refused_clearly(fake_ollama, tmp_path: Path) -> None:
    fake_ollama(script())
    log = run(foreign_mbpp(), self_refine(feedback="public"), tmp_path)
    assert log.status == "error"
    assert "feedback=public needs fof's public tests" in log.error.message


def test_fofs_own_tasks_keep_fofs_grader(fake_ollama, tmp_path: Path) -> None:
    from fof_inspect.scorers.pass_at_1 import pass_at_1

    fake_ollama(script())
    sample = Sample(id="b", input=MBPP_PROMPT, metadata={"tests": "assert bigger(1, 2) == 2", "entry_point": "bigger"})
    log = run(Task(dataset=MemoryDataset([sample]), scorer=pass_at_1(), sandbox=foreign_mbpp().sandbox), self_refine(),
              tmp_path)
    [sample] = log.samples
    assert sample.metadata["oracle"] == "fof_grader"
    assert sample.scores["pass_at_1"].value == "C"
    assert sample.scores["pass_at_1"].metadata["first_error_type"] == "AssertionError"


MBPP_PROMPT = "Write a function to find the maximum of two numbers, named bigger."


def test_the_cli_puts_a_named_pipeline_on_a_foreign_task(fake_ollama, tmp_path: Path) -> None:
    model = script()
    server = fake_ollama(model)
    env = {**os.environ, "OLLAMA_BASE_URL": server.base_url}
    done = subprocess.run(
        [sys.executable, "-m", "inspect_ai", "eval", "support/foreign_tasks.py@foreign_humaneval", "--solver",
         "fof_inspect/self_refine", "--model", "ollama/llama3.2:3b", "--display", "none", "--log-dir", str(tmp_path)],
        cwd=TESTS, env=env, capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [path] = tmp_path.glob("*.eval")
    assert [s.scores["verify"].value for s in read_eval_log(str(path)).samples] == ["C", "C"]
    assert model.calls["refiner", "def triple"] == 1


@pytest.mark.parametrize(
    ("value", "passed"),
    [("C", True), ("c", True), ("yes", True), ("PASS", True), (True, True), (1, True), (1.0, True),
     ({"a": "C", "b": 1.0}, True), ([1, "C"], True),
     ("I", False), ("P", False), ("no", False), (False, False), (0, False), (0.5, False), ({"a": "C", "b": 0}, False),
     ({}, False)],
)
def test_score_values_that_mean_the_code_passed(value, passed: bool) -> None:
    assert score_passed(value) is passed


def test_failure_feedback_is_the_scorers_explanation_without_its_fences() -> None:
    explanation = "The following code was executed:\n```python\nassert f() == 2\n```\nAssertionError\n"
    code = "def f():\n    return 1"
    body = Score(value="I", explanation=explanation, answer="    return 1\n")
    feedback = failure_feedback([Score(value="C", explanation="fine"), body], code, f"```python\n{code}\n```")
    assert "```" not in feedback and "fine" not in feedback
    assert "score: I" in feedback and "assert f() == 2\nAssertionError" in feedback
    assert "The answer it graded:\nreturn 1" in feedback  # the scorer graded less than the code
    same = Score(value=0, explanation="wrong", answer=code)
    assert "answer it graded" not in failure_feedback([same], code, "")
