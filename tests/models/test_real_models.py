"""Real small models through the toolkit, as a user reaches them.

SmolLM2-135M-Instruct and Gemma 3 270M (PyPI packages) served by llama.cpp's server,
behind a stand-in for Ollama's native API (tests/support/real_models.py), so `ollama/…`
names and the preflight run unchanged; and directly through Inspect's
`llama-cpp-python/` provider. What must hold whatever a tiny model writes: every sample
graded with a type from the taxonomy, refinement after failed drafts and never after
passing ones, no sample lost to a harness error, logs `fof report` reads.

The stand-in caps each completion (TIER_CAPS: 192 tokens for SmolLM2, 64 for Gemma) to
bound the tier's time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from inspect_ai import eval
from inspect_ai.log import list_eval_logs, read_eval_log

from fof_inspect.compat import clear_model_cache as _clear_inspect_model_cache
from fof_inspect.solvers import champion, pipeline
from fof_inspect.tasks.humaneval import humaneval
from fof_inspect.tasks.mbpp import mbpp
from support.graded import assert_graded, assert_report_reads
from support.real_models import GEMMA3, SMOLLM2, TIER_CAPS, TIER_MAX_TOKENS, OllamaStandIn, llama_servers, \
    real_ollama, unavailable_reason

UNAVAILABLE = unavailable_reason()
pytestmark = [
    pytest.mark.real_model,
    pytest.mark.usefixtures("docker_sandbox"),
    pytest.mark.skipif(UNAVAILABLE is not None, reason=str(UNAVAILABLE)),
]

LIMIT = 3
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ollama() -> Iterator[OllamaStandIn]:
    """Both packaged models behind the Ollama stand-in; OLLAMA_HOST/OLLAMA_BASE_URL point at it."""
    with real_ollama(max_tokens_cap=TIER_CAPS) as standin, pytest.MonkeyPatch.context() as mp:
        for key, value in standin.env().items():
            mp.setenv(key, value)
        _clear_inspect_model_cache()
        yield standin
    _clear_inspect_model_cache()


def genome_file(tmp_path: Path, name: str, generator: str, refiner: str | None, analyzer: str | None = None) -> Path:
    lines = [f"name: {name}", f"generator: {{model: ollama/{generator}, prompt: plain, temperature: 0.2, seed: 1}}"]
    if refiner:
        lines += ["stages:", "  - innovation: 0", "    max_iterations: 2"]
        if analyzer:
            lines.append(f"    analyzer: {{model: ollama/{analyzer}, prompt: diagnose, temperature: 0.2, seed: 1}}")
        lines.append(f"    refiner: {{model: ollama/{refiner}, prompt: fix, temperature: 0.2, seed: 1}}")
    path = tmp_path / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("suite", ["humaneval", "mbpp"])
def test_solo_and_self_refine_grade_every_real_answer(ollama: OllamaStandIn, suite: str, tmp_path: Path,
                                                     data_dir: str) -> None:
    task = (lambda solver: humaneval(solver=solver)) if suite == "humaneval" else (
        lambda solver: mbpp(solver=solver, data_dir=data_dir))
    solo = genome_file(tmp_path, "solo_smollm2", SMOLLM2, None)
    refine = genome_file(tmp_path, "self_refine_smollm2", SMOLLM2, SMOLLM2)
    logs = eval([task(pipeline(genome=str(solo))), task(pipeline(genome=str(refine)))], model=f"ollama/{SMOLLM2}",
                limit=LIMIT, log_dir=str(tmp_path / "logs"), display="none")
    for log in logs:
        assert_graded(log, LIMIT)
    assert_report_reads(tmp_path / "logs", tmp_path / "report")
    assert {r["model"] for r in ollama.requests} >= {SMOLLM2} and all(r["status"] == 200 for r in ollama.requests)


def test_champion_with_role_overrides_runs_on_the_packaged_models(ollama: OllamaStandIn, tmp_path: Path) -> None:
    roles = {"generator": f"ollama/{GEMMA3}", "analyzer": f"ollama/{SMOLLM2}", "refiner": f"ollama/{SMOLLM2}"}
    before = len(ollama.requests)
    [log] = eval(humaneval(solver=champion()), model=f"ollama/{SMOLLM2}", model_roles=roles, limit=LIMIT,
                 log_dir=str(tmp_path / "logs"), display="none")
    assert_graded(log, LIMIT)
    called = {r["model"] for r in ollama.requests[before:]}
    assert GEMMA3 in called and "qwen2.5:1.5b" not in called and "llama3.2:3b" not in called


def test_the_llama_cpp_python_provider_reaches_the_same_server(tmp_path: Path) -> None:
    with llama_servers((SMOLLM2,)) as servers:
        [log] = eval(humaneval(), model=f"llama-cpp-python/{SMOLLM2}", model_base_url=servers[SMOLLM2].base_url,
                     limit=LIMIT, max_tokens=TIER_MAX_TOKENS, log_dir=str(tmp_path / "logs"), display="none")
    assert_graded(log, LIMIT)
    assert_report_reads(tmp_path / "logs", tmp_path / "report")


def test_two_generations_of_evolve_over_the_packaged_pool(ollama: OllamaStandIn, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "fof_inspect.cli", "evolve", "--task", "humaneval",
         "--models", f"ollama/{SMOLLM2},ollama/{GEMMA3}", "--population", "4", "--generations", "2",
         "--subset", "1", "--evals", "1", "--seed", "3", "--validate-runs", "0", "--run-dir", str(run_dir)],
        capture_output=True, text=True, timeout=1200, env={**os.environ, **ollama.env()}, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    for generation in ("gen-000", "gen-001"):
        logs = [read_eval_log(info) for info in list_eval_logs(str(run_dir / generation), recursive=False)]
        assert len(logs) == 4
        for log in logs:
            assert_graded(log, 1)
    assert (run_dir / "champion.yaml").is_file()
    assert_report_reads(run_dir, tmp_path / "report")
