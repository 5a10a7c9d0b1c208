"""The report reads pipelines from the genome data in the logs, never from `Genome.describe()`'s
wording: real logs (fake Ollama over HTTP, programs graded in the Docker sandbox) give the same
tables after the description's wording changes; logs without that data fall back, with a note."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.log import EvalConfig, EvalDataset, EvalLog, EvalResults, EvalSample, EvalScore, EvalSpec, write_eval_log
from inspect_ai.scorer import Score
from inspect_ai.util import SandboxEnvironmentSpec

from fof_inspect.genome import Genome
from fof_inspect.report import make_report
from fof_inspect.report.load import load_logs
from fof_inspect.sandbox.config import SandboxConfig
from fof_inspect.scorers.pass_at_1 import pass_at_1
from fof_inspect.solvers import pipeline, self_refine
from support.scripted_model import Script, fenced

RIGHT = {"sq": "x * x", "dbl": "2 * x", "neg": "-x"}
TESTS = {"sq": "assert sq(3) == 9", "dbl": "assert dbl(4) == 8", "neg": "assert neg(5) == -5"}
WRONG = {"sq": "y", "dbl": "x + 'a'", "neg": "x"}  # NameError, TypeError, AssertionError
LABEL_COLUMNS = {"config", "a", "b", "Configuration", "Comparison"}


def answer(kind: str, problem: str, n: int) -> str:
    name = problem.split()[1]
    right = kind == "refiner" and (n + len(name)) % 2 == 0 or kind == "generator" and n % 3 == 0
    return fenced(f"def {name}(x):\n    return {RIGHT[name] if right else WRONG[name]}")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory, docker_sandbox) -> Path:
    from support.serving import serving

    root = tmp_path_factory.mktemp("logs")
    problems = [f"Write {name} (x)." for name in RIGHT]
    samples = [
        Sample(id=name, input=problem, metadata={"tests": TESTS[name], "entry_point": name, "timeout": 5})
        for name, problem in zip(RIGHT, problems)
    ]
    task = Task(dataset=MemoryDataset(samples), scorer=pass_at_1(), name="toy", epochs=3,
                sandbox=SandboxEnvironmentSpec("fof_docker", SandboxConfig(timeout=5)))
    with serving(Script(problems, answer)):
        for solver in (pipeline(genome="solo"), self_refine(), self_refine(early_stop=False)):
            [log] = eval(task, solver=solver, model="ollama/llama3.2:3b", log_dir=str(root), display="none")
            assert log.status == "success"
    return root


def numbers(out: Path) -> dict[str, pd.DataFrame]:
    """Every table's CSV without the columns that show configuration labels."""
    return {
        csv.stem: (frame := pd.read_csv(csv)).drop(columns=[c for c in frame.columns if c in LABEL_COLUMNS])
        for csv in sorted(out.glob("*.csv"))
    }


def test_the_tables_survive_a_change_of_describe_wording(logs: Path, tmp_path: Path, monkeypatch) -> None:
    before = make_report([logs], tmp_path / "before")
    monkeypatch.setattr(Genome, "describe", lambda self: f"<{len(self.stages)} stage(s), reworded>")
    after = make_report([logs], tmp_path / "after")

    assert after.table("main_results").frame["config"].str.contains("reworded").all()  # the wording did change
    expected, got = numbers(tmp_path / "before"), numbers(tmp_path / "after")
    assert set(got) == set(expected) and {"main_results", "separation", "error_taxonomy"} <= set(got)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(got[name], frame, obj=name)
    separation = before.table("separation").frame
    assert len(separation) == 2 and separation["b_id"].eq("C1").all()  # both refiners vs the solo baseline
    assert not before.table("error_taxonomy").frame.empty
    assert not any("description string" in note for table in before.tables for note in table.notes)


def test_logs_without_genome_data_fall_back_to_the_description_with_a_note(tmp_path: Path) -> None:
    spec = EvalSpec(created="2026-11-01T00:00:00+00:00", task="fof_inspect/humaneval", dataset=EvalDataset(samples=1),
                    model="ollama/llama3.2:3b", config=EvalConfig(), solver="fof_inspect/self_refine")
    record = {"stage": 1, "iteration": 1, "produced_by": "generator", "code_hash": "h", "passed": False,
              "error_type": "NameError", "feedback_passed": False}
    sample = EvalSample(id="HumanEval/0", epoch=1, input="x", target="",
                        metadata={"pipeline": "gen(default) → exec → ref(default) ×3", "feedback_mode": "hidden"},
                        scores={"pass_at_1": Score(value="I", metadata={"error_type": "NameError", "trace": [record]})})
    results = EvalResults(total_samples=1, completed_samples=1, scores=[EvalScore(name="pass_at_1", scorer="pass_at_1")])
    write_eval_log(EvalLog(eval=spec, status="success", samples=[sample], results=results), str(tmp_path / "old.eval"))

    loaded = load_logs([tmp_path / "old.eval"])
    [label] = loaded.samples["config"].unique()
    assert label == "self_refine: gen(llama3.2:3b) → exec → ref(llama3.2:3b) ×3"
    assert loaded.samples["stages"].tolist() == [1]
    assert any("read from the description string" in note for note in loaded.notes)
