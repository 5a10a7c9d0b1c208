"""Genome schema: limits from paper §3.1, genome-file errors, named pipelines."""

from __future__ import annotations

import pickle
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml

from fof_inspect.compat import PrerequisiteError
from fof_inspect.genome import Genome, GenomeError, NodeGene, StageGene, load_genome
from fof_inspect.prompts import (
    NODE_KINDS,
    PROMPT_POOLS,
    REFINER_TEMPLATE,
    refiner_message,
    system_prompt,
)
from fof_inspect.solvers.presets import NAMED_PIPELINES, named_genome, resolve_genome


def _node(prompt: str, model: str | None = "ollama/llama3.2:3b", temperature: float = 0.5) -> dict[str, Any]:
    return {"model": model, "prompt": prompt, "temperature": temperature}


def _stage(innovation: int, iterations: int = 1, analyzer: bool = False) -> dict[str, Any]:
    stage: dict[str, Any] = {"innovation": innovation, "max_iterations": iterations, "refiner": _node("fix")}
    if analyzer:
        stage["analyzer"] = _node("diagnose")
    return stage


def _genome(*stages: dict[str, Any]) -> dict[str, Any]:
    return {"generator": _node("plain", model="ollama/qwen2.5:1.5b"), "stages": list(stages)}


def _load_error(tmp_path: Path, data: Any, name: str = "bad.yaml") -> GenomeError:
    """Write `data` (YAML text or a structure) to a file; its load must fail."""
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    with pytest.raises(GenomeError) as caught:
        load_genome(path)
    return caught.value


# -- named pipelines -------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMED_PIPELINES)
def test_named_pipeline_round_trips_through_yaml(name: str, tmp_path: Path) -> None:
    genome = named_genome(name)
    assert genome.name == name
    assert Genome.from_yaml(genome.to_yaml()) == genome
    genome.save(tmp_path / "g.yaml")
    assert load_genome(tmp_path / "g.yaml") == genome
    assert Genome.from_yaml(str(tmp_path / "g.yaml")) == genome


def test_named_pipelines_match_shipped_files() -> None:
    shipped = {p.name for p in files("fof_inspect.solvers").joinpath("pipelines").iterdir()}
    assert shipped == {f"{name}.yaml" for name in NAMED_PIPELINES}


def test_named_pipelines_are_the_papers_configurations() -> None:
    assert named_genome("solo").generator.model is None
    assert named_genome("solo").stages == []
    assert named_genome("self_refine").describe() == "gen(llama3.2:3b) → exec → ref(llama3.2:3b) ×3"
    assert named_genome("cross_model").describe() == "gen(qwen2.5:1.5b) → exec → ref(llama3.2:3b) ×3"
    assert named_genome("coder_self_refine").models() == {"ollama/qwen2.5-coder:3b"}
    champion = named_genome("champion")
    assert champion.describe() == "gen(qwen2.5:1.5b) → exec → ana(llama3.2:3b) → ref(llama3.2:3b) ×3"
    assert champion.node_count == 4


def test_unknown_named_pipeline_lists_names() -> None:
    with pytest.raises(GenomeError, match="choose from solo, self_refine"):
        named_genome("best")
    with pytest.raises(GenomeError, match="neither a named pipeline"):
        resolve_genome("best")
    assert resolve_genome("champion") == named_genome("champion")


# -- counts and derived views ----------------------------------------------------------


def test_counts_and_models() -> None:
    genome = Genome.model_validate(_genome(_stage(0, 3, analyzer=True), _stage(1, 2)))
    assert genome.node_count == 1 + 3 + 2
    assert genome.total_iterations == 5
    assert genome.models() == {"ollama/qwen2.5:1.5b", "ollama/llama3.2:3b"}
    assert [kind for kind, _ in genome.llm_nodes()] == ["generator", "analyzer", "refiner", "refiner"]


def test_models_leaves_out_the_eval_model() -> None:
    genome = Genome(generator=NodeGene(prompt="plain", temperature=0.2))
    assert genome.models() == set()
    assert genome.describe() == "gen(default)"
    assert genome.node_count == 1 and genome.total_iterations == 0


def test_eight_nodes_allowed() -> None:
    genome = Genome.model_validate(_genome(_stage(0, analyzer=True), _stage(1), _stage(2)))
    assert genome.node_count == 8


def test_with_temperature_copies_every_node() -> None:
    genome = named_genome("champion")
    cold = genome.with_temperature(0.0)
    assert {node.temperature for _, node in cold.llm_nodes()} == {0.0}
    assert {node.temperature for _, node in genome.llm_nodes()} == {0.7, 0.3, 0.5}  # unchanged
    assert cold.describe() == genome.describe()


def test_describe_multi_stage() -> None:
    genome = Genome.model_validate(_genome(_stage(0, 1), _stage(4, 2, analyzer=True)))
    assert genome.describe() == (
        "gen(qwen2.5:1.5b) → exec → ref(llama3.2:3b) ×1 → exec → ana(llama3.2:3b) → ref(llama3.2:3b) ×2"
    )


def test_built_in_code_is_validated_too() -> None:
    with pytest.raises(ValueError, match="not a refiner prompt"):
        StageGene(innovation=0, max_iterations=1, refiner=NodeGene(prompt="plain", temperature=0.1))


# -- genome-file errors: one GenomeError naming the file and the field -----------------


def _two_analyzer_stages() -> dict[str, Any]:
    """3 stages, 2 analyzers: 1 + 3 + 3 + 2 = 9 nodes."""
    return _genome(_stage(0, analyzer=True), _stage(1, analyzer=True), _stage(2))


_DROP = object()


def _with(data: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """`data` with one nested entry replaced (or removed if value is _DROP)."""
    *parents, last = path
    target = data
    for key in parents:
        target = target[key]
    if value is _DROP:
        del target[last]
    else:
        target[last] = value
    return data


@pytest.mark.parametrize(
    ("data", "field", "detail"),
    [
        pytest.param(
            _genome(*(_stage(i) for i in range(4))), "stages", "at most 3 stages allowed (got 4)", id="4-stages"
        ),
        pytest.param(_two_analyzer_stages(), "stages", "pipeline has 9 nodes, at most 8 allowed", id="9-nodes"),
        pytest.param(
            _with(_genome(_stage(0)), ("stages", 0, "max_iterations"), 0),
            "stages[0].max_iterations",
            "must be between 1 and 3 (got 0)",
            id="0-iterations",
        ),
        pytest.param(
            _with(_genome(_stage(0), _stage(1)), ("stages", 1, "max_iterations"), 4),
            "stages[1].max_iterations",
            "must be between 1 and 3 (got 4)",
            id="4-iterations",
        ),
        pytest.param(
            _with(_genome(), ("generator", "prompt"), "foo"),
            "generator.prompt",
            "'foo' is not a generator prompt (choose from plain, careful, test_first)",
            id="generator-prompt",
        ),
        pytest.param(
            _with(_genome(_stage(0, analyzer=True)), ("stages", 0, "analyzer", "prompt"), "fix"),
            "stages[0].analyzer.prompt",
            "'fix' is not an analyzer prompt (choose from diagnose, explain_fix)",
            id="analyzer-prompt",
        ),
        pytest.param(
            _with(_genome(_stage(0)), ("stages", 0, "refiner", "prompt"), "plain"),
            "stages[0].refiner.prompt",
            "'plain' is not a refiner prompt (choose from fix, rewrite, minimal_patch)",
            id="refiner-prompt",
        ),
        pytest.param(
            _with(_genome(_stage(0)), ("stages", 0, "refiner", "tempreature"), 0.3),
            "stages[0].refiner.tempreature",
            "unknown field; did you mean 'temperature'?",
            id="unknown-node-key",
        ),
        pytest.param(
            _with(_genome(), ("stage",), []),
            "stage",
            "unknown field; did you mean 'stages'? allowed: name, description, generator, stages",
            id="unknown-top-key",
        ),
        pytest.param(
            _genome(_stage(3), _stage(5), _stage(3)),
            "stages[2].innovation",
            "innovation number 3 is already used by stages[0]",
            id="duplicate-innovation",
        ),
        pytest.param(
            _with(_genome(), ("generator", "temperature"), 2.5),
            "generator.temperature",
            "must be between 0.0 and 2.0 (got 2.5)",
            id="temperature",
        ),
        pytest.param(
            _with(_genome(_stage(0)), ("stages", 0, "innovation"), -1),
            "stages[0].innovation",
            "must be at least 0 (got -1)",
            id="negative-innovation",
        ),
        pytest.param(
            _with(_genome(), ("generator", "model"), "llama3.2:3b"),
            "generator.model",
            "not an Inspect model name",
            id="bare-model-tag",
        ),
        pytest.param(
            _with(_genome(_stage(0)), ("stages", 0, "refiner"), _DROP),
            "stages[0].refiner",
            "required field is missing",
            id="missing-refiner",
        ),
        pytest.param(
            _with(_genome(), ("generator", "temperature"), "hot"),
            "generator.temperature",
            "(got 'hot')",
            id="wrong-type",
        ),
    ],
)
def test_invalid_genome_file(tmp_path: Path, data: dict[str, Any], field: str, detail: str) -> None:
    error = _load_error(tmp_path, data)
    assert error.field == field
    assert str(error).startswith(f"genome file {tmp_path / 'bad.yaml'}: {field}: ")
    assert detail in str(error)


def test_genome_error_is_a_prerequisite_error(tmp_path: Path) -> None:
    """Inspect prints PrerequisiteError's message without a traceback."""
    error = _load_error(tmp_path, "generator: {prompt: foo, temperature: 0.1}\n")
    assert isinstance(error, PrerequisiteError)
    assert error.message == str(error)
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_yaml_syntax_error(tmp_path: Path) -> None:
    error = _load_error(tmp_path, "generator: {prompt: plain\n  temperature: [\n", name="broken.yaml")
    assert str(error).startswith(f"genome file {tmp_path / 'broken.yaml'}: invalid YAML at line 2")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GenomeError, match=r"genome file .*absent\.yaml: no such file"):
        load_genome(tmp_path / "absent.yaml")
    with pytest.raises(GenomeError, match="no such file"):
        Genome.from_yaml(str(tmp_path / "absent.yml"))


@pytest.mark.parametrize(("text", "got"), [("", "nothing"), ("- a\n- b\n", "a list")])
def test_not_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    assert str(_load_error(tmp_path, text)).endswith(f"expected a mapping with 'generator' and 'stages', got {got}")


def test_yaml_text_errors_name_the_source() -> None:
    with pytest.raises(GenomeError, match=r"^genome YAML: generator: required field is missing$"):
        Genome.from_yaml("stages: []\n")
    with pytest.raises(GenomeError, match=r"^my.yaml: generator"):
        Genome.from_yaml("stages: []\n", source="my.yaml")


# -- prompts ---------------------------------------------------------------------------


def test_prompt_pools_have_the_papers_sizes() -> None:
    assert {kind: len(PROMPT_POOLS[kind]) for kind in NODE_KINDS} == {"generator": 3, "analyzer": 2, "refiner": 3}
    with pytest.raises(ValueError, match="choose from fix, rewrite, minimal_patch"):
        system_prompt("refiner", "plain")


def test_refiner_message_includes_analysis_only_if_given() -> None:
    fields = {"problem": "Add {a} and b.", "code": "def add(a, b):\n    return a - b", "feedback": "AssertionError"}
    plain = refiner_message(**fields)
    assert plain == REFINER_TEMPLATE.format(**fields)
    assert "Analysis" not in plain and "return a - b" in plain and "{a}" in plain
    assert "Use + instead of -." in refiner_message(**fields, analysis="Use + instead of -.")
