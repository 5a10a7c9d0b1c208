"""The check before an eval: Ollama answers and has every model; OLLAMA_HOST is honoured."""

from __future__ import annotations

import time

import pytest

from fof_inspect import ollama_preflight
from fof_inspect.ollama_preflight import OllamaNotReadyError, check_ollama, ollama_base_url


def test_ollama_host_alone_points_inspect_at_the_server(fake_ollama, monkeypatch: pytest.MonkeyPatch) -> None:
    server = fake_ollama(lambda request: "", models={"llama3.2:3b"})
    monkeypatch.delenv("OLLAMA_BASE_URL")
    monkeypatch.setenv("OLLAMA_HOST", server.host.removeprefix("http://"))
    assert ollama_base_url() == server.base_url
    check_ollama(["ollama/llama3.2:3b", "openai/gpt-4o", None])  # only ollama/ models are checked


def test_a_missing_model_names_the_pull_to_run(fake_ollama) -> None:
    fake_ollama(lambda request: "", models={"llama3.2:3b"})
    ollama_preflight._pulled.cache_clear()
    with pytest.raises(OllamaNotReadyError, match=r"has not pulled qwen2\.5:1\.5b: run `ollama pull qwen2\.5:1\.5b`"):
        check_ollama(["ollama/llama3.2:3b", "ollama/qwen2.5:1.5b"])


def test_a_dead_server_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://127.0.0.1:9/v1")
    ollama_preflight._pulled.cache_clear()
    started = time.monotonic()
    with pytest.raises(OllamaNotReadyError, match="Ollama is not answering at http://127.0.0.1:9.*ollama serve"):
        check_ollama(["ollama/llama3.2:3b"])
    assert time.monotonic() - started < 10
