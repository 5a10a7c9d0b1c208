"""The check before an eval's first sample: provider-aware, on every path (fof's tasks'
default solver and `--model-role` models included), said on stderr whatever the display."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from inspect_ai.model import get_model

from fof_inspect import preflight as preflight_module
from fof_inspect.preflight import ModelNotReadyError, check_models, ollama_base_url, preflight

REPO = Path(__file__).resolve().parents[2]
DEAD = "http://127.0.0.1:9/v1"


@pytest.fixture(autouse=True)
def fresh_listings() -> None:
    preflight_module._pulled.cache_clear()


def test_ollama_host_alone_points_inspect_at_the_server(fake_ollama, monkeypatch: pytest.MonkeyPatch) -> None:
    server = fake_ollama(lambda request: "", models={"llama3.2:3b"})
    monkeypatch.delenv("OLLAMA_BASE_URL")
    monkeypatch.setenv("OLLAMA_HOST", server.host.removeprefix("http://"))
    assert ollama_base_url() == server.base_url
    check_models(["ollama/llama3.2:3b", "openai/gpt-4o", None])


def test_a_missing_model_names_the_pull_to_run(fake_ollama) -> None:
    fake_ollama(lambda request: "", models={"llama3.2:3b"})
    with pytest.raises(ModelNotReadyError, match=r"has not pulled qwen2\.5:1\.5b: run `ollama pull qwen2\.5:1\.5b`"):
        check_models(["ollama/llama3.2:3b", "ollama/qwen2.5:1.5b"])


def test_a_dead_server_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_BASE_URL", DEAD)
    started = time.monotonic()
    with pytest.raises(ModelNotReadyError, match="Ollama is not answering at http://127.0.0.1:9.*ollama serve"):
        check_models(["ollama/llama3.2:3b"])
    assert time.monotonic() - started < 10


def test_other_providers_are_never_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_BASE_URL", DEAD)
    for name in ("OPENAI_API_KEY", "LAB_API_KEY", "LLAMA_CPP_PYTHON_API_KEY"):
        monkeypatch.setenv(name, "unused")
    monkeypatch.setenv("LAB_BASE_URL", DEAD)
    check_models(["openai-api/lab/qwen2.5:1.5b", "vllm/Qwen/Qwen2.5-1.5B", "llama-cpp-python/x", "litellm-proxy/y",
                  get_model("openai-api/lab/qwen2.5:1.5b"), None])


def test_a_models_own_base_url_is_the_one_checked(fake_ollama, monkeypatch: pytest.MonkeyPatch) -> None:
    server = fake_ollama(lambda request: "", models={"llama3.2:3b"})
    model = get_model("ollama/llama3.2:3b", base_url=server.base_url)
    monkeypatch.setenv("OLLAMA_BASE_URL", DEAD)
    check_models([model])
    with pytest.raises(ModelNotReadyError, match="not answering"):
        check_models(["ollama/llama3.2:3b"])


def test_a_failure_is_said_once_on_stderr_as_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("OLLAMA_BASE_URL", DEAD)
    with pytest.raises(ModelNotReadyError) as raised:
        preflight(["ollama/llama3.2:3b"])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fof: Ollama is not answering") and "`ollama serve`" in err
    assert raised.value.reported and "ollama serve" in str(raised.value)
    assert raised.value.message == ""  # Inspect's excepthook would print it again


def inspect_eval(args: list[str], base_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OLLAMA_BASE_URL": base_url}
    return subprocess.run([sys.executable, "-m", "inspect_ai", "eval", *args, "--display", "none", "--limit", "1"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=240)


def fof_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("fof:")]


def test_the_default_solver_stops_before_the_first_sample_on_a_model_not_pulled(fake_ollama, tmp_path: Path) -> None:
    server = fake_ollama(lambda request: "", models={"llama3.2:3b"})
    done = inspect_eval(["tasks/humaneval.py", "--model", "ollama/notpulled:1b", "--model-role",
                         "grader=ollama/alsomissing:1b", "--log-dir", str(tmp_path)], server.base_url)
    assert done.returncode != 0
    [line] = fof_lines(done.stderr)
    assert "run `ollama pull alsomissing:1b && ollama pull notpulled:1b`" in line, done.stderr[-2000:]
    assert server.requests == []  # no sample started


def test_the_default_solver_stops_at_once_when_ollama_is_down(tmp_path: Path) -> None:
    started = time.monotonic()
    done = inspect_eval(["tasks/humaneval.py", "--model", "ollama/llama3.2:3b", "--log-dir", str(tmp_path)], DEAD)
    assert done.returncode != 0
    [line] = fof_lines(done.stderr)
    assert "Ollama is not answering at http://127.0.0.1:9" in line and "`ollama serve`" in line
    assert time.monotonic() - started < 120
