"""The fake Ollama server behaves like Ollama for Inspect's real ``ollama/`` provider.

Everything goes over real HTTP on 127.0.0.1: if these pass, tests built on the
fake exercise the same client code (retries, error mapping, concurrency) that
talks to a real Ollama.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import ollama
import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.log import EvalLog
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import match
from inspect_ai.solver import generate, system_message

from support.fake_ollama import FakeOllama, Request
from support.serving import FakeOllamaFactory

MODEL = "ollama/llama3.2:3b"

ANSWERS = {"What is 2+2?": "4", "What is 3*3?": "9", "What is 10-7?": "3"}


def _script(req: Request) -> str:
    """Answer the arithmetic questions; a wrong answer for 10-7 proves scoring is real."""
    answer = ANSWERS.get(req.last_user, "?")
    return "The answer is 5" if answer == "3" else f"The answer is {answer}"


def _task(n: int = 3, config: GenerateConfig | None = None) -> Task:
    """Tiny arithmetic task: one generate() call per sample, scored by match()."""
    samples = [
        Sample(input=q, target=a, id=i) for i, (q, a) in enumerate(ANSWERS.items())
    ][:n]
    return Task(
        dataset=MemoryDataset(samples),
        solver=[system_message("You are terse."), generate()],
        scorer=match(location="end"),
        config=config or GenerateConfig(),
    )


def _run(task: Task, tmp_path: Path, **kwargs: Any) -> EvalLog:
    """Run one task quietly with logs under tmp_path."""
    kwargs.setdefault("model", MODEL)
    logs = eval(task, log_dir=str(tmp_path / "logs"), display="none", **kwargs)
    assert len(logs) == 1
    return logs[0]


def _scores(log: EvalLog) -> dict[Any, Any]:
    assert log.samples is not None
    return {s.id: s.scores["match"].value for s in log.samples if s.scores}


@pytest.fixture
def no_tiktoken(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and fail) any tiktoken lookup: offline, it would try to download."""
    import tiktoken

    calls: list[str] = []

    def boom(*args: Any, **kwargs: Any) -> Any:
        calls.append(repr(args))
        raise RuntimeError("tiktoken must not be used offline")

    monkeypatch.setattr(tiktoken, "get_encoding", boom)
    monkeypatch.setattr(tiktoken, "encoding_for_model", boom)
    return calls


def test_scripted_answers_are_scored_through_inspect(
    fake_ollama: FakeOllamaFactory, tmp_path: Path, no_tiktoken: list[str]
) -> None:
    fake = fake_ollama(_script)
    config = GenerateConfig(temperature=0.3, seed=7, max_tokens=64)
    log = _run(_task(config=config), tmp_path, max_retries=1, timeout=10)

    assert log.status == "success", log.error
    assert _scores(log) == {0: "C", 1: "C", 2: "I"}
    reqs = fake.requests
    assert len(reqs) == 3
    for req in reqs:
        assert req.route == "/v1/chat/completions"
        assert req.model == "llama3.2:3b"  # provider prefix stripped
        assert (req.temperature, req.seed, req.max_tokens) == (0.3, 7, 64)
        assert req.system == "You are terse."
        assert not req.stream
    assert {r.last_user for r in reqs} == set(ANSWERS)
    # usage came back from the server, so no local token counting happened
    assert log.stats.model_usage["ollama/llama3.2:3b"].output_tokens > 0
    assert no_tiktoken == []


def test_extra_body_options_reach_the_server(
    fake_ollama: FakeOllamaFactory, tmp_path: Path
) -> None:
    """num_ctx has no OpenAI field; extra_body is the only way it reaches /v1."""
    fake = fake_ollama(_script)
    config = GenerateConfig(extra_body={"options": {"num_ctx": 8192}}, top_p=0.9)
    log = _run(_task(n=1, config=config), tmp_path, max_retries=1)

    assert log.status == "success", log.error
    (req,) = fake.requests
    assert req.options["num_ctx"] == 8192
    assert req.options["top_p"] == 0.9
    assert req.temperature is None and req.seed is None and req.max_tokens is None


def test_explicit_model_base_url_wins_over_env(
    fake_ollama: FakeOllamaFactory, tmp_path: Path
) -> None:
    wanted = fake_ollama(_script)
    decoy = fake_ollama(_script)  # env now points here
    log = _run(_task(n=1), tmp_path, model_base_url=wanted.base_url, max_retries=1)

    assert log.status == "success", log.error
    assert len(wanted.requests) == 1 and decoy.requests == []


def test_missing_model_fails_fast_with_not_found(
    fake_ollama: FakeOllamaFactory, tmp_path: Path
) -> None:
    fake = fake_ollama(_script, models={"llama3.2:3b"})
    t0 = time.monotonic()
    log = _run(_task(n=1), tmp_path, model="ollama/qwen2.5:7b", max_retries=1, timeout=5)
    elapsed = time.monotonic() - t0

    assert log.status == "error"
    assert log.error is not None and "not found" in log.error.message
    assert "qwen2.5:7b" in log.error.message
    assert elapsed < 5
    # 404 is not retried by either the SDK or Inspect
    assert [r.model for r in fake.requests] == ["qwen2.5:7b"]


def test_script_exception_surfaces_as_http_500(
    fake_ollama: FakeOllamaFactory, tmp_path: Path
) -> None:
    def broken(req: Request) -> str:
        raise ValueError("scripted failure for " + req.last_user)

    fake = fake_ollama(broken)
    t0 = time.monotonic()
    log = _run(_task(n=1), tmp_path, max_retries=0, timeout=10)

    assert log.status == "error"
    assert log.error is not None
    # with max_retries=0 Inspect reports tenacity's RetryError around the SDK's
    # InternalServerError; newer Inspect releases also chain the server's message
    # into the traceback, older ones (0.3.275) do not, so the body is read directly
    assert "InternalServerError" in log.error.message + log.error.traceback
    # the OpenAI SDK itself retries a 5xx twice (Inspect can't switch that off
    # for ollama/), so the script ran three times, with sub-second backoffs
    assert len(fake.requests) == 3
    assert [s.ok for s in fake.spans] == [False] * 3
    assert time.monotonic() - t0 < 8
    req = urllib.request.Request(
        fake.base_url + "/chat/completions",
        data=json.dumps(
            {"model": "llama3.2:3b", "messages": [{"role": "user", "content": "What is 2+2?"}]}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as http_err:
        urllib.request.urlopen(req, timeout=10)
    assert http_err.value.code == 500
    assert "ValueError: scripted failure for What is 2+2?" in http_err.value.read().decode()


def test_parallel_caps_concurrency(
    fake_ollama: FakeOllamaFactory, tmp_path: Path
) -> None:
    latency = 0.4
    fake = fake_ollama(lambda req: "4", latency=latency, parallel=2)
    four = Task(
        dataset=MemoryDataset([Sample(input=f"q{i}", target="4") for i in range(4)]),
        solver=generate(),
        scorer=match(),
    )
    log = _run(four, tmp_path, max_connections=4, max_retries=1)

    assert log.status == "success", log.error
    assert fake.max_in_flight == 4  # Inspect sent all four at once...
    assert fake.max_concurrency == 2  # ...the server served two at a time
    window = fake.window()
    assert window is not None
    assert window[1] - window[0] >= 2 * latency * 0.95
    assert fake.busy_fraction() == pytest.approx(1.0, abs=0.15)
    assert fake.busy_fraction(4) == pytest.approx(0.5, abs=0.1)
    # two of the four had to queue for a slot
    waits = sorted(s.start - s.arrived for s in fake.spans)
    assert waits[-1] >= latency * 0.8


def test_streaming_requests_get_sse(
    fake_ollama: FakeOllamaFactory, tmp_path: Path
) -> None:
    long = "The answer is " + "really, " * 10 + "4"
    fake = fake_ollama(lambda req: long)
    # ollama/ takes no `stream` model arg; a stream idle timeout requests streaming
    log = _run(_task(n=1), tmp_path, stream_idle_timeout=30, max_retries=1)

    assert log.status == "success", log.error
    assert _scores(log) == {0: "C"}
    assert log.samples is not None and log.samples[0].output.completion == long
    (req,) = fake.requests
    assert req.stream and req.options["stream_options"] == {"include_usage": True}
    assert log.stats.model_usage["ollama/llama3.2:3b"].output_tokens > 0


def test_native_api_with_ollama_client(fake_ollama: FakeOllamaFactory) -> None:
    fake = fake_ollama(lambda req: f"echo {req.last_user}", models={"llama3.2:3b", "tiny"})
    client = ollama.Client(host=fake.host)

    names = sorted(m.model or "" for m in client.list().models)
    assert names == ["llama3.2:3b", "tiny:latest"]
    show = client.show("llama3.2:3b")
    assert show.details is not None and show.details.family == "llama"
    assert show.modelinfo and show.modelinfo["llama.context_length"] == 131072
    with pytest.raises(ollama.ResponseError) as err:
        client.show("mistral:7b")
    assert err.value.status_code == 404

    reply = client.chat(
        model="tiny",
        messages=[{"role": "user", "content": "hi"}],
        options={"num_ctx": 2048, "temperature": 0.0, "seed": 1, "num_predict": 5},
    )
    assert reply.message.content == "echo hi" and reply.done
    (req,) = fake.requests
    assert (req.route, req.model, req.temperature, req.seed, req.max_tokens) == (
        "/api/chat",
        "tiny",
        0.0,
        1,
        5,
    )
    assert req.options["num_ctx"] == 2048
    streamed = "".join(
        part.message.content or ""
        for part in client.chat(
            model="tiny", messages=[{"role": "user", "content": "yo"}], stream=True
        )
    )
    assert streamed == "echo yo"
    assert [m.model for m in client.ps().models] == ["tiny:latest"]

    with urllib.request.urlopen(fake.host + "/") as r:
        assert r.read() == b"Ollama is running"
    with urllib.request.urlopen(fake.host + "/api/version") as r:
        assert "version" in json.load(r)
    with pytest.raises(urllib.error.HTTPError) as http_err:
        urllib.request.urlopen(fake.host + "/nope")
    assert http_err.value.code == 404


def test_stop_leaks_no_threads_and_cuts_latency_short() -> None:
    before = set(threading.enumerate())
    fake = FakeOllama(lambda req: "x", latency=30)
    fake.start()
    body = json.dumps({"model": "llama3.2:3b", "messages": [{"role": "user", "content": "q"}]})
    caller = threading.Thread(
        target=lambda: _post_ignoring_errors(fake.base_url + "/chat/completions", body)
    )
    caller.start()
    while fake.max_in_flight == 0:
        time.sleep(0.01)
    t0 = time.monotonic()
    fake.stop()
    caller.join(5)
    assert time.monotonic() - t0 < 5
    assert set(threading.enumerate()) <= before


def _post_ignoring_errors(url: str, body: str) -> None:
    headers = {"Content-Type": "application/json"}
    req = urllib.request.Request(url, data=body.encode(), headers=headers)
    try:
        urllib.request.urlopen(req, timeout=10).read()
    except OSError:
        pass
