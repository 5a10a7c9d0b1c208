"""`fof report` on logs this test makes for real: the `ollama/` provider over HTTP to a
scripted fake Ollama, programs graded in the Docker sandbox, early stopping off."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.util import SandboxEnvironmentSpec

from fof_inspect.report import make_report
from fof_inspect.sandbox.config import SandboxConfig
from fof_inspect.scorers.pass_at_1 import pass_at_1
from fof_inspect.solvers import self_refine
from support.scripted_model import Script, fenced

pytestmark = pytest.mark.usefixtures("docker_sandbox")

RIGHT = {"sq": "x * x", "cube": "x ** 3", "dbl": "2 * x", "neg": "-x"}
TESTS = {"sq": "assert sq(3) == 9", "cube": "assert cube(2) == 8", "dbl": "assert dbl(4) == 8", "neg": "assert neg(5) == -5"}
# the version of each problem's code after 0 (draft), 1, 2, 3 refiner calls
PLAN = {
    "sq": ["y", "right", "x + 1", "x + 1"],  # NameError draft, fixed, then broken again
    "cube": ["x * 3", "right", "right", "right"],  # AssertionError, fixed at 1
    "dbl": ["x + 'a'", "x + 'a'", "right", "right"],  # TypeError, fixed at 2
    "neg": ["right", "x", "x", "right"],  # correct draft, broken at 1, mended at 3
}


def answer(kind: str, problem: str, n: int) -> str:
    name = problem.split()[1]
    body = PLAN[name][0 if kind == "generator" else n]
    return fenced(f"def {name}(x):\n    return {RIGHT[name] if body == 'right' else body}")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_report_tables_match_what_the_scripted_model_did(fake_ollama, tmp_path: Path) -> None:
    problems = [f"Write {name} (x)." for name in PLAN]
    fake_ollama(Script(problems, answer))
    samples = [
        Sample(id=name, input=problem, metadata={"tests": TESTS[name], "entry_point": name, "timeout": 5})
        for name, problem in zip(PLAN, problems)
    ]
    task = Task(dataset=MemoryDataset(samples), scorer=pass_at_1(), name="toy",
                sandbox=SandboxEnvironmentSpec("fof_docker", SandboxConfig(timeout=5)))
    [log] = eval(task, solver=self_refine(early_stop=False), model="ollama/llama3.2:3b",
                 log_dir=str(tmp_path / "logs"), display="none")
    assert log.status == "success"

    report = make_report([tmp_path / "logs"], tmp_path / "report")
    out = tmp_path / "report"
    assert [r["solved"] for r in rows(out / "early_stopping_cumulative.csv")] == ["1.0", "3.0", "4.0", "4.0"]
    net = [(r["iteration"], r["fixes"], r["regressions"], r["net"]) for r in rows(out / "early_stopping_net.csv")]
    assert net == [("1", "2.0", "1.0", "1.0"), ("2", "1.0", "1.0", "0.0"), ("3", "1.0", "0.0", "1.0")]
    [broken] = rows(out / "early_stopping_regressions.csv")
    assert (broken["initial_passes"], broken["broke"], broken["broken_at_end"]) == ("1.0", "1.0", "0.0")
    taxonomy = {r["error_type"]: (r["failed"], r["fixed"]) for r in rows(out / "error_taxonomy.csv")}
    assert taxonomy == {"NameError": ("1", "0"), "AssertionError": ("1", "1"), "TypeError": ("1", "1")}
    [main] = rows(out / "main_results.csv")
    assert (main["problems"], main["runs"], main["mean"], main["percent"]) == ("4", "1", "3.0", "75.0")
    assert (out / "early_stopping_paradox.png").stat().st_size > 1000
    assert report.path.exists()
