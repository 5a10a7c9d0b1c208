"""Before an eval's first sample: can every model it will call answer?

Provider-aware, checking only what can be checked for each provider:

- `ollama/`: the server answers and has pulled every model. Inspect's `ollama/` provider
  retries a dead server for a very long time and reports a missing model only at the
  first call; this check says either in one line, at once, with the command that fixes it.
- every other provider (`openai-api/<name>/`, `llama-cpp-python/`, `vllm/`,
  `litellm-proxy/`, ...): nothing. Their servers differ in what they list, some are
  started by Inspect itself (`vllm/` without a base URL), so a probe could only guess;
  they are never blocked.

`preflight` is what evals call (the fof tasks at construction, for the eval's `--model`
and `--model-role` models; every pipeline, for the models its genome names): a failure
is printed once, as one line on stderr, because Inspect renders a PrerequisiteError
through its console, which `--display none` silences and which wraps long lines.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

import httpx
import ollama
from inspect_ai._util.error import PrerequisiteError
from inspect_ai.model import Model, get_model, model_roles

DEFAULT_HOST = "http://localhost:11434"
PROBE_TIMEOUT = 5.0
OLLAMA_PREFIX = "ollama/"

ModelRef = str | Model | None
"""A model as the eval will call it: an Inspect name, a Model (whose base URL counts), or none."""


class ModelNotReadyError(PrerequisiteError):
    """A model the eval will call cannot answer (Ollama down, or a model not pulled)."""

    reported: bool = False
    """True once said on stderr: Inspect's console and the `fof` command then stay quiet."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def preflight(models: Iterable[ModelRef]) -> None:
    """`check_models`, for an eval about to start: a failure is one line on stderr, then raised."""
    try:
        check_models(models)
    except ModelNotReadyError as ex:
        if not ex.reported:
            print(f"fof: {ex}", file=sys.stderr, flush=True)
            ex.reported = True
            ex.message = ""  # said once already: Inspect's excepthook would repeat it on stdout
        raise


def check_models(models: Iterable[ModelRef]) -> None:
    """Raise ModelNotReadyError unless every model that can be checked is ready."""
    by_host: dict[str, set[str]] = defaultdict(set)
    for model in models:
        name = str(model) if model is not None else ""
        if name.startswith(OLLAMA_PREFIX):
            base = model.api.base_url if isinstance(model, Model) and model.api.base_url else None
            by_host[native_host(base or ollama_base_url())].add(name.removeprefix(OLLAMA_PREFIX))
    for host, wanted in sorted(by_host.items()):
        _check_ollama_host(host, sorted(wanted))


def eval_models() -> list[ModelRef]:
    """The eval's `--model` and every `--model-role` model, as Inspect has resolved them
    (it does so before it constructs the tasks and solvers); none outside an eval."""
    models: list[ModelRef] = []
    try:
        models.append(get_model())
    except ValueError:
        pass  # no eval model (yet): nothing to check
    try:
        roles = model_roles()
    except LookupError:
        roles = {}
    for role_models in roles.values():
        models.extend(role_models if isinstance(role_models, list) else [role_models])
    return models


def ollama_base_url() -> str:
    """The OpenAI-compatible base URL Inspect will use, honouring OLLAMA_HOST too.

    Inspect reads only OLLAMA_BASE_URL; Ollama's own tools read OLLAMA_HOST. When only
    OLLAMA_HOST is set, export the matching OLLAMA_BASE_URL so both agree.
    """
    base = os.environ.get("OLLAMA_BASE_URL")
    if not base:
        host = os.environ.get("OLLAMA_HOST")
        if host:
            host = host if "://" in host else f"http://{host}"
            base = host.rstrip("/") + "/v1"
            os.environ["OLLAMA_BASE_URL"] = base
        else:
            base = DEFAULT_HOST + "/v1"
    return base


def native_host(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def _check_ollama_host(host: str, wanted: list[str]) -> None:
    missing = [m for m in wanted if _canonical(m) not in _pulled(host)]
    if missing:
        _pulled.cache_clear()  # pulling takes a minute: look again next time
        pulls = " && ".join(f"ollama pull {m}" for m in missing)
        raise ModelNotReadyError(f"Ollama at {host} has not pulled {', '.join(missing)}: run `{pulls}` and try again.")


@lru_cache(maxsize=8)
def _pulled(host: str) -> frozenset[str]:
    try:
        listing = ollama.Client(host=host, timeout=PROBE_TIMEOUT).list()
    except (httpx.HTTPError, ConnectionError, ollama.ResponseError) as ex:
        first_sentence = " ".join(str(ex).split()).split(". ")[0][:120]
        reason = f"{type(ex).__name__}: {first_sentence}"
        raise ModelNotReadyError(
            f"Ollama is not answering at {host} ({reason}). "
            "Start it with `ollama serve`, or set OLLAMA_HOST / OLLAMA_BASE_URL to where it runs."
        ) from None
    return frozenset(_canonical(m.model or "") for m in listing.models)


def _canonical(name: str) -> str:
    return name if ":" in name else f"{name}:latest"
