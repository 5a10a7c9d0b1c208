"""Before an eval starts: is Ollama answering, and has it pulled every model we will call?

Inspect's `ollama/` provider retries a dead server for a very long time and reports a
missing model only at the first call; this check says both in one line, at once, with
the command that fixes it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import lru_cache

import httpx
import ollama
from inspect_ai._util.error import PrerequisiteError

DEFAULT_HOST = "http://localhost:11434"
PROBE_TIMEOUT = 5.0


class OllamaNotReadyError(PrerequisiteError):
    """Ollama is down or lacks a model the pipeline names."""


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


def ollama_models(models: Iterable[str | None]) -> list[str]:
    """The Ollama model names (without `ollama/`) among Inspect model names."""
    return sorted({m.split("/", 1)[1] for m in models if m and m.startswith("ollama/")})


def check_ollama(models: Iterable[str | None], base_url: str | None = None) -> None:
    """Raise OllamaNotReadyError unless the server answers and has every `ollama/` model."""
    wanted = ollama_models(models)
    if not wanted:
        return
    host = native_host(base_url or ollama_base_url())
    missing = [m for m in wanted if _canonical(m) not in _pulled(host)]
    if missing:
        _pulled.cache_clear()  # pulling takes a minute: look again next time
        pulls = " && ".join(f"ollama pull {m}" for m in missing)
        raise OllamaNotReadyError(
            f"Ollama at {host} has not pulled {', '.join(missing)}: run `{pulls}` and try again."
        )


@lru_cache(maxsize=8)
def _pulled(host: str) -> frozenset[str]:
    try:
        listing = ollama.Client(host=host, timeout=PROBE_TIMEOUT).list()
    except (httpx.HTTPError, ConnectionError, ollama.ResponseError) as ex:
        raise OllamaNotReadyError(
            f"Ollama is not answering at {host} ({type(ex).__name__}: {str(ex)[:120]}). "
            "Start it with `ollama serve`, or set OLLAMA_HOST / OLLAMA_BASE_URL to where it runs."
        ) from None
    return frozenset(_canonical(m.model or "") for m in listing.models)


def _canonical(name: str) -> str:
    return name if ":" in name else f"{name}:latest"
