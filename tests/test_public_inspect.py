"""fof_inspect uses Inspect's public API only (private uses sit in fof_inspect/compat.py),
the README's bare `--solver` names work without writing into Inspect's registry, and the
tasks take any sandbox provider."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log
from inspect_ai.util import SandboxEnvironmentSpec

from fof_inspect.compat import PrerequisiteError
from fof_inspect.tasks.humaneval import humaneval
from support.scripted_model import fenced
from support.pipelines import REPO, cli, humaneval_script

PRIVATE_INSPECT = re.compile(r"inspect_ai(\.[A-Za-z_]\w*)*\._|from inspect_ai[\w.]* import\s*\(?[^)\n]*\b_\w")
ALLOWED = {Path("fof_inspect") / "compat.py", Path("tests") / "test_public_inspect.py"}
"""The compat module, and this test (its own examples of the pattern)."""


def python_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=REPO, capture_output=True, text=True, check=True)
    return [Path(line) for line in listed.stdout.split()]


def test_no_private_inspect_module_is_used_outside_the_compat_module() -> None:
    offenders = [
        f"{path}:{n}: {line.strip()}"
        for path in python_files()
        if path not in ALLOWED
        for n, line in enumerate((REPO / path).read_text().splitlines(), 1)
        if PRIVATE_INSPECT.search(line)
    ]
    assert offenders == []
    assert PRIVATE_INSPECT.search("from inspect_ai.model import _model")  # the pattern catches both forms
    assert PRIVATE_INSPECT.search("from inspect_ai._util.error import PrerequisiteError")


def test_tasks_take_any_sandbox_provider_and_its_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "values.yaml").write_text("services: {}\n")
    assert humaneval(sandbox="k8s", sandbox_config="values.yaml").sandbox == SandboxEnvironmentSpec(
        "k8s", str(tmp_path / "values.yaml")
    )
    assert humaneval(sandbox="docker").sandbox == SandboxEnvironmentSpec("docker")
    assert humaneval().sandbox.type == "fof_docker"
    with pytest.raises(PrerequisiteError, match="sandbox_config"):
        humaneval(sandbox_config="values.yaml")


@pytest.mark.usefixtures("docker_sandbox")
def test_the_readmes_bare_solver_names_work_on_a_task_run_by_path(fake_ollama, tmp_path: Path, data_dir: str) -> None:
    """From the checkout (where its fof_inspect.egg-info makes Inspect register every
    fof_inspect object bare) and from elsewhere (where they are `fof_inspect/<name>` and
    only the task file's thin wrappers are bare)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    tasks = Path(os.path.relpath(REPO / "tasks", elsewhere))  # Inspect refuses absolute task paths
    done = cli([str(tasks / "humaneval.py"), "--solver", "reference", "--model", "mockllm/model", "--limit", "3",
                "--log-dir", str(tmp_path / "reference")], "http://127.0.0.1:9/v1", cwd=elsewhere)
    assert done.returncode == 0, done.stderr[-3000:]
    [log] = [read_eval_log(str(p)) for p in (tmp_path / "reference").glob("*.eval")]
    assert log.results.scores[0].metrics["accuracy"].value == 1.0
    assert log.eval.solver == "reference"

    server = fake_ollama(humaneval_script())
    done = cli(["tasks/humaneval.py", "--solver", "self_refine", "-S", "early_stop=false", "--model",
                "ollama/llama3.2:3b", "--limit", "1", "--log-dir", str(tmp_path / "bare")], server.base_url)
    assert done.returncode == 0, done.stderr[-3000:]
    [log] = [read_eval_log(str(p)) for p in (tmp_path / "bare").glob("*.eval")]
    assert log.eval.solver == "self_refine" and log.eval.solver_args == {"early_stop": False}
    assert log.samples[0].scores["pass_at_1"].metadata["iterations"] == 3  # early stopping really off

    server = fake_ollama(lambda request: fenced("def nothing():\n    pass"))
    done = cli([str(tasks / "mbpp.py"), "-T", f"data_dir={data_dir}", "--solver", "fof_inspect/self_refine", "--model",
                "ollama/llama3.2:3b", "--limit", "1", "--log-dir", str(tmp_path / "prefixed")], server.base_url,
               cwd=elsewhere)
    assert done.returncode == 0, done.stderr[-3000:]
    [log] = [read_eval_log(str(p)) for p in (tmp_path / "prefixed").glob("*.eval")]
    assert log.eval.solver == "fof_inspect/self_refine"
