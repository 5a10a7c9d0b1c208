"""The Ollama stand-in the real-model tier puts in front of llama.cpp, checked against a
scripted OpenAI-compatible backend (no model needed): the preflight sees its names, and
requests reach the backend under the backend's alias without Ollama-only fields."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import ollama
import pytest

from support.fake_ollama import FakeOllama, Request
from fof_inspect.preflight import ModelNotReadyError, _pulled, check_models
from support.real_models import OllamaStandIn


@dataclass
class FakeBackend:
    model_path: Path
    alias: str
    base_url: str
    n_ctx: int = 4096


@pytest.fixture
def standin(tmp_path: Path):
    weights = tmp_path / "tiny.gguf"
    weights.write_bytes(b"GGUF" + bytes(60))
    seen: list[Request] = []

    def echo(request: Request) -> str:
        seen.append(request)
        return "```python\ndef f():\n    return 1\n```"

    with FakeOllama(echo, models={"tiny"}) as backend:
        target = FakeBackend(weights, "tiny", backend.base_url)
        server = OllamaStandIn({"qwen2.5:1.5b": target, "smollm2:135m": target}, max_tokens_cap=64).start()
        try:
            yield server, seen
        finally:
            server.stop()
            _pulled.cache_clear()


def test_the_preflight_and_the_ollama_client_see_the_mapped_names(standin, monkeypatch: pytest.MonkeyPatch) -> None:
    server, _ = standin
    monkeypatch.setenv("OLLAMA_BASE_URL", server.base_url)
    check_models(["ollama/qwen2.5:1.5b", "ollama/smollm2:135m"])
    client = ollama.Client(host=server.host)
    assert sorted(m.model for m in client.list().models) == ["qwen2.5:1.5b", "smollm2:135m"]
    assert client.show("smollm2:135m").details.format == "gguf"
    with pytest.raises(ModelNotReadyError, match="ollama pull llama3.2:3b"):
        check_models(["ollama/llama3.2:3b"])


def test_chat_requests_reach_the_backend_alias_capped_and_without_ollama_options(standin) -> None:
    server, seen = standin
    body = {"model": "qwen2.5:1.5b", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1024,
            "options": {"num_ctx": 4096}}
    answer = httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=10).json()
    assert answer["model"] == "qwen2.5:1.5b" and "def f()" in answer["choices"][0]["message"]["content"]
    [request] = seen
    assert request.model == "tiny" and request.max_tokens == 64 and "num_ctx" not in request.options


def test_an_unknown_model_gets_ollamas_not_found(standin) -> None:
    server, _ = standin
    reply = httpx.post(f"{server.base_url}/chat/completions", json={"model": "nope:1b", "messages": []}, timeout=10)
    assert reply.status_code == 404 and "try pulling it first" in reply.text
