"""The README's two commands, read from the README itself, as a user runs them.

The main command's `inspect eval …` part runs exactly as written, against the Ollama
stand-in serving SmolLM2-135M under the names it uses (qwen2.5:1.5b, llama3.2:3b). The
text is not touched: the sample count comes from INSPECT_EVAL_LIMIT and the log folder
from INSPECT_LOG_DIR, the environment variables Inspect reads for `--limit` and
`--log-dir`, so a real 135M model answers 2 problems instead of 164. The test command is
what .ci/run extracts with its own awk, so CI keeps running what the README says.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log

from support.real_models import TIER_CAPS, real_ollama, unavailable_reason
from support.graded import assert_graded

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MAIN_LIMIT = 2


def block_after(marker: str) -> str:
    """The first line of the fenced block after `<!-- marker -->` in the README."""
    match = re.search(rf"<!-- {marker} -->\s*```\w*\n(.*?)\n", README.read_text())
    assert match, f"README.md has no fenced block after <!-- {marker} -->"
    return match.group(1)


def main_eval_command() -> str:
    command = block_after("main-command")
    assert "inspect eval " in command, command
    return command[command.index("inspect eval "):]


def test_ci_runs_the_readme_test_command() -> None:
    awk = next(line for line in (REPO / ".ci" / "run").read_text().splitlines() if line.startswith("test_command="))
    extracted = subprocess.run(["bash", "-c", f"{awk}\nprintf %s \"$test_command\""], cwd=REPO,
                               capture_output=True, text=True, check=True).stdout
    assert extracted == block_after("test-command")
    assert extracted.startswith("pip install -e ") and "python -m pytest" in extracted


def test_the_main_command_names_models_the_stand_in_serves() -> None:
    command = main_eval_command()
    assert re.search(r"--model ollama/\S+", command) and "tasks/humaneval.py" in command


@pytest.mark.real_model
@pytest.mark.usefixtures("docker_sandbox")
@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_the_main_command_runs_as_written(tmp_path: Path) -> None:
    command = main_eval_command()
    with real_ollama(max_tokens_cap=TIER_CAPS) as ollama:
        env = {**os.environ, **ollama.env(), "INSPECT_EVAL_LIMIT": str(MAIN_LIMIT),
               "INSPECT_LOG_DIR": str(tmp_path / "logs"),
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        done = subprocess.run(["bash", "-c", command], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=1200)
        called = {r["model"] for r in ollama.requests}
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    [info] = list_eval_logs(str(tmp_path / "logs"))
    log = read_eval_log(info)
    assert_graded(log, MAIN_LIMIT)
    assert log.eval.task.endswith("humaneval") and log.eval.model in command
    assert called <= {"qwen2.5:1.5b", "llama3.2:3b"} and "qwen2.5:1.5b" in called  # the champion's generator
