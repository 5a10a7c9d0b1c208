"""The pipeline search space as one schema, shared by the CLI, genome files, search and reports.

A genome is a constrained linear pipeline (paper §3.1): one generator, then 0-3
refinement stages, each an executor, an optional analyzer and a refiner, iterated
1-3 times. Each stage carries a NEAT innovation number so that crossover can align
the stages of two parents (§3.2). Genome files are YAML; every problem in one is
reported as a single `GenomeError` naming the file and the field, because a genome
typo should cost a second to fix, not a traceback to read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Any, Self, TypeVar, get_args

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from fof_inspect.compat import PrerequisiteError
from fof_inspect.prompts import PROMPT_POOLS, NodeKind, unknown_prompt_message

__all__ = [
    "MAX_STAGES",
    "MAX_NODES",
    "MAX_ITERATIONS",
    "GenomeError",
    "NodeGene",
    "StageGene",
    "Genome",
    "load_genome",
]

MAX_STAGES = 3
MAX_NODES = 8
MAX_ITERATIONS = 3
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.0, 2.0

_ERROR_TYPE = "fof_genome"


class GenomeError(PrerequisiteError):
    """A genome that cannot be used; Inspect prints it without a traceback."""

    def __init__(self, source: str, field: str | None, detail: str) -> None:
        self.source = source
        self.field = field
        self.detail = detail
        message = f"{source}: {field}: {detail}" if field else f"{source}: {detail}"
        super().__init__(message)
        self.args = (source, field, detail)  # so the error survives pickling

    def __str__(self) -> str:
        return str(self.message)


def _invalid(detail: str, *subpath: str | int) -> PydanticCustomError:
    """A validation error whose location is `subpath` below the validated value.

    Validators on a container (a stage list, a node) know which part of it is wrong,
    but pydantic only records the container's location; the sub-path travels in the
    error context and `_genome_error` appends it.
    """
    return PydanticCustomError(_ERROR_TYPE, "{detail}", {"detail": detail, "subpath": subpath})


_N = TypeVar("_N", int, float)


def _in_range(lo: _N, hi: _N | None = None) -> AfterValidator:
    """Range check whose message gives the bounds and the bad value."""

    def check(value: _N) -> _N:
        if value < lo or (hi is not None and value > hi):
            bounds = f"at least {lo}" if hi is None else f"between {lo} and {hi}"
            raise _invalid(f"must be {bounds} (got {value})")
        return value

    return AfterValidator(check)


def _inspect_model_name(name: str | None) -> str | None:
    """Any Inspect provider (`ollama/`, `vllm/`, `llama-cpp-python/`, `litellm-proxy/`, ...);
    catch a bare Ollama tag here rather than as a provider error mid-eval."""
    if name is not None:
        provider, _, model = name.partition("/")
        if not provider or not model:
            raise _invalid(
                f"{name!r} is not an Inspect model name; use provider/model, e.g. ollama/{name or 'llama3.2:3b'}"
            )
        if provider == "openai-api" and not all(model.partition("/")[::2]):
            raise _invalid(
                f"{name!r} names no service: use openai-api/<service>/<model> "
                "(with <SERVICE>_BASE_URL and <SERVICE>_API_KEY set)"
            )
    return name


class _Gene(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class NodeGene(_Gene):
    """One LLM node: which model, which prompt of its node type's pool, how to sample."""

    model: Annotated[str | None, AfterValidator(_inspect_model_name)] = None
    """Inspect model name (e.g. "ollama/llama3.2:3b"); None means the eval's model."""
    prompt: str
    """Key into the pool of this node's type (see `fof_inspect.prompts`)."""
    temperature: Annotated[float, _in_range(MIN_TEMPERATURE, MAX_TEMPERATURE)]
    max_tokens: Annotated[int, _in_range(1)] = 1024
    seed: int | None = None
    num_ctx: Annotated[int, _in_range(256)] = 4096
    """Ollama context window (the paper's 4096), sent with every request of this node."""


def _prompt_of(kind: NodeKind) -> AfterValidator:
    """Check a node's prompt against its node type's pool (a NodeGene alone cannot know its type)."""

    def check(node: NodeGene) -> NodeGene:
        if node.prompt not in PROMPT_POOLS[kind]:
            raise _invalid(unknown_prompt_message(kind, node.prompt), "prompt")
        return node

    return AfterValidator(check)


GeneratorNode = Annotated[NodeGene, _prompt_of("generator")]
AnalyzerNode = Annotated[NodeGene, _prompt_of("analyzer")]
RefinerNode = Annotated[NodeGene, _prompt_of("refiner")]


class StageGene(_Gene):
    """executor → optional analyzer → refiner, repeated until the code passes or iterations run out."""

    innovation: Annotated[int, _in_range(0)]
    max_iterations: Annotated[int, _in_range(1, MAX_ITERATIONS)]
    analyzer: AnalyzerNode | None = None
    refiner: RefinerNode

    @property
    def node_count(self) -> int:
        """Executor and refiner always, plus the analyzer if present."""
        return 2 + (self.analyzer is not None)


class Genome(_Gene):
    """A whole pipeline: the unit that genome files, the search and the reports deal in."""

    name: str | None = None
    description: str | None = None
    generator: GeneratorNode
    stages: list[StageGene] = Field(default_factory=list)

    @field_validator("stages")
    @classmethod
    def _check_stages(cls, stages: list[StageGene]) -> list[StageGene]:
        if len(stages) > MAX_STAGES:
            raise _invalid(f"at most {MAX_STAGES} stages allowed (got {len(stages)})")
        nodes = 1 + sum(stage.node_count for stage in stages)
        if nodes > MAX_NODES:
            raise _invalid(
                f"pipeline has {nodes} nodes, at most {MAX_NODES} allowed "
                "(generator 1, per stage executor 1 + refiner 1 + analyzer 0/1)"
            )
        first_use: dict[int, int] = {}
        for i, stage in enumerate(stages):
            j = first_use.setdefault(stage.innovation, i)
            if j != i:
                raise _invalid(
                    f"innovation number {stage.innovation} is already used by stages[{j}]",
                    i,
                    "innovation",
                )
        return stages

    @property
    def node_count(self) -> int:
        return 1 + sum(stage.node_count for stage in self.stages)

    @property
    def total_iterations(self) -> int:
        """Upper bound on refinement rounds (early stopping usually ends sooner)."""
        return sum(stage.max_iterations for stage in self.stages)

    def llm_nodes(self) -> Iterator[tuple[NodeKind, NodeGene]]:
        """Every LLM node with its type, in pipeline order (what mutation picks from)."""
        yield "generator", self.generator
        for stage in self.stages:
            if stage.analyzer is not None:
                yield "analyzer", stage.analyzer
            yield "refiner", stage.refiner

    def models(self) -> set[str]:
        """Explicitly named models (nodes using the eval's model are left out)."""
        return {node.model for _, node in self.llm_nodes() if node.model is not None}

    def with_temperature(self, temperature: float) -> Genome:
        """A copy with every node at one temperature (the paper's T=0 deterministic regime)."""
        copy = self.model_copy(deep=True)
        for _, node in copy.llm_nodes():
            node.temperature = temperature
        return copy

    def describe(self) -> str:
        """Topology on one line, in the paper's Table 7 notation."""

        def short(node: NodeGene) -> str:
            return node.model.partition("/")[2] if node.model else "default"

        parts = [f"gen({short(self.generator)})"]
        for stage in self.stages:
            parts.append("exec")
            if stage.analyzer is not None:
                parts.append(f"ana({short(stage.analyzer)})")
            parts.append(f"ref({short(stage.refiner)}) ×{stage.max_iterations}")
        return " → ".join(parts)

    # -- YAML ---------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, path_or_text: str | Path, *, source: str | None = None) -> Self:
        """Parse a genome file, or YAML text (a str with a newline or no .yaml/.yml file name).

        `source` names the genome in error messages (default: the file path).
        """
        if _looks_like_path(path_or_text):
            path = Path(path_or_text)
            source = source or f"genome file {path}"
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise GenomeError(source, None, "no such file") from None
            except OSError as exc:
                raise GenomeError(source, None, f"cannot read it ({exc.strerror or exc})") from None
        else:
            text = str(path_or_text)
            source = source or "genome YAML"
        return cls.from_dict(_parse_yaml(text, source), source=source)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "genome") -> Self:
        """Validate already-parsed data (e.g. from a log), with genome-file error messages."""
        if not isinstance(data, dict):
            kind = "nothing" if data is None else f"a {type(data).__name__}"
            raise GenomeError(source, None, f"expected a mapping with 'generator' and 'stages', got {kind}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise _genome_error(exc, source) from None

    def to_yaml(self) -> str:
        """YAML that `from_yaml` reads back to an equal genome (unset optionals left out)."""
        data = self.model_dump(mode="json", exclude_none=True)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_yaml(), encoding="utf-8")


def load_genome(path: str | Path) -> Genome:
    """Read a genome file (always a path, never YAML text)."""
    return Genome.from_yaml(Path(path))


# -- error translation -----------------------------------------------------------------


def _looks_like_path(path_or_text: str | Path) -> bool:
    if isinstance(path_or_text, Path):
        return True
    if "\n" in path_or_text:
        return False
    return path_or_text.endswith((".yaml", ".yml")) or Path(path_or_text).is_file()


def _parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise GenomeError(source, None, f"invalid YAML{where}: {problem}") from None


def _genome_error(exc: ValidationError, source: str) -> GenomeError:
    """The first problem pydantic found, in genome-file terms (others are counted).

    Unknown keys go first: a misspelt key also shows up as a missing one, and the
    typo is the thing to fix.
    """
    errors = sorted(exc.errors(), key=lambda error: error["type"] != "extra_forbidden")
    first = errors[0]
    loc = tuple(first["loc"]) + tuple(first.get("ctx", {}).get("subpath", ()))
    detail = _detail(first, loc)
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return GenomeError(source, _field_path(loc) or None, detail)


def _detail(error: Any, loc: Sequence[str | int]) -> str:
    kind = error["type"]
    if kind == _ERROR_TYPE:
        return str(error["ctx"]["detail"])
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        if model is None:
            return "unknown field"
        guess = get_close_matches(str(loc[-1]), model.model_fields, n=1)
        hint = f"did you mean {guess[0]!r}? " if guess else ""
        return f"unknown field; {hint}allowed: {', '.join(model.model_fields)}"
    got = repr(error["input"])
    got = got if len(got) <= 60 else got[:57] + "..."
    return f"{error['msg'][:1].lower()}{error['msg'][1:]} (got {got})"


def _field_path(loc: Sequence[str | int]) -> str:
    """('stages', 0, 'max_iterations') -> 'stages[0].max_iterations'."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path


def _model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The schema class that the (field) location points into, to list its fields."""
    model: type[BaseModel] | None = Genome
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = _find_model(field.annotation) if field else None
    return model


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if found := _find_model(arg):
            return found
    return None

