"""Any Inspect model provider, not only Ollama: genomes, model roles and the search's pool.

End to end against a fake OpenAI-compatible server (the fake Ollama, which serves
/v1/chat/completions) through Inspect's real `openai-api/<service>/` provider
(`<SERVICE>_BASE_URL`, `<SERVICE>_API_KEY`), programs graded in the Docker sandbox.
Ollama-only request options (the context size) must reach Ollama models only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from inspect_ai import eval

from fof_inspect.cli_evolve import main as evolve
from fof_inspect.genome import GenomeError, NodeGene, load_genome
from fof_inspect.solvers import pipeline, self_refine
from support.scripted_model import Script, fenced, node_kind
from support.pipelines import PROBLEM, RIGHT, refiner_sequence, square_task

pytestmark = pytest.mark.usefixtures("docker_sandbox")

SERVICE = "fakeapi"
"""`openai-api/fakeapi/<model>` reads FAKEAPI_BASE_URL and FAKEAPI_API_KEY."""


@pytest.fixture
def openai_server(fake_ollama, monkeypatch: pytest.MonkeyPatch):
    """A fake OpenAI-compatible server for `openai-api/fakeapi/`; `ollama/` reaches it too."""

    def start(script, models=("llama3.2:3b", "qwen2.5:1.5b")):
        server = fake_ollama(script, models=models)
        monkeypatch.setenv(f"{SERVICE.upper()}_BASE_URL", server.base_url)
        monkeypatch.setenv(f"{SERVICE.upper()}_API_KEY", "not-a-secret")
        return server

    return start


def api(model: str) -> str:
    return f"openai-api/{SERVICE}/{model}"


@pytest.mark.parametrize(
    "model",
    ["ollama/llama3.2:3b", "llama-cpp-python/qwen2.5-1.5b", "vllm/Qwen/Qwen2.5-1.5B-Instruct",
     "openai-api/lab/llama3.2:3b", "litellm-proxy/llama3.2:3b", "sglang/qwen2.5", "openai/gpt-4o-mini"],
)
def test_a_genome_names_a_model_of_any_inspect_provider(model: str) -> None:
    assert NodeGene(model=model, prompt="plain", temperature=0.5).model == model


def test_an_openai_api_model_without_a_service_is_a_clear_genome_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("generator: {model: openai-api/llama3.2:3b, prompt: plain, temperature: 0.5}\nstages: []\n")
    with pytest.raises(GenomeError, match=r"generator\.model: .*openai-api/<service>/<model>"):
        load_genome(bad)


def test_a_pipeline_runs_end_to_end_on_an_openai_compatible_server(openai_server, tmp_path: Path) -> None:
    server = openai_server(Script([PROBLEM], refiner_sequence(RIGHT)))
    genome = tmp_path / "mixed.yaml"
    genome.write_text(
        f"generator: {{model: {api('qwen2.5:1.5b')}, prompt: plain, temperature: 0.7}}\n"
        "stages:\n"
        "  - {innovation: 0, max_iterations: 2, refiner: {model: ollama/llama3.2:3b, prompt: fix, temperature: 0.5}}\n"
    )
    [log] = eval(square_task(), solver=pipeline(genome=str(genome)), model=api("llama3.2:3b"),
                 log_dir=str(tmp_path / "logs"), display="none")
    assert log.status == "success", log.error
    assert log.samples[0].scores["pass_at_1"].value == "C"
    generator_call, refiner_call = server.requests
    assert (node_kind(generator_call), generator_call.model) == ("generator", "qwen2.5:1.5b")
    assert "options" not in generator_call.body and generator_call.temperature == 0.7
    assert (node_kind(refiner_call), refiner_call.body["options"]) == ("refiner", {"num_ctx": 4096})


def test_a_model_role_may_name_another_provider(openai_server, tmp_path: Path) -> None:
    server = openai_server(Script([PROBLEM], refiner_sequence(RIGHT)))
    [log] = eval(square_task(), solver=self_refine(), model="ollama/llama3.2:3b",
                 model_roles={"generator": api("qwen2.5:1.5b"), "refiner": api("llama3.2:3b")},
                 log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    assert log.samples[0].scores["pass_at_1"].value == "C"
    assert [(node_kind(r), r.model) for r in server.requests] == [("generator", "qwen2.5:1.5b"), ("refiner", "llama3.2:3b")]
    assert all("options" not in r.body for r in server.requests)


def test_the_search_pool_may_name_another_provider(openai_server, tmp_path: Path) -> None:
    from fof_inspect.datasets import humaneval_dataset

    references = {s.metadata["prompt"]: s.metadata["reference"] for s in humaneval_dataset()}

    def answer(request) -> str:
        problem = next((p for p in references if p in request.last_user), None)
        return fenced(references[problem]) if problem else "The code is wrong."

    server = openai_server(answer, models=("good:1b", "bad:1b"))
    run_dir = tmp_path / "run"
    pool = f"{api('good:1b')},{api('bad:1b')}"
    assert evolve(["--models", pool, "--run-dir", str(run_dir), "--subset", "2", "--seed", "3", "--population", "2",
                   "--generations", "1", "--evals", "1", "--validate-runs", "0"]) == 0
    state = json.loads((run_dir / "state.json").read_text())
    assert state["generation"] == 1 and state["config"]["models"] == pool.split(",")
    assert server.requests and all("options" not in r.body for r in server.requests)
    assert {r.model for r in server.requests} <= {"good:1b", "bad:1b"}
