"""A fake Ollama that this process's Inspect and Ollama preflight talk to (tests' fixture, bench/)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from support.fake_ollama import FakeOllama, Request

DEFAULT_FAKE_MODELS: frozenset[str] = frozenset({"llama3.2:3b", "qwen2.5:1.5b"})
_ENV = ("OLLAMA_BASE_URL", "OLLAMA_HOST")


class FakeOllamaFactory(Protocol):
    """Signature of the ``fake_ollama`` fixture (for type hints in tests)."""

    def __call__(
        self,
        script: Callable[[Request], str],
        models: Iterable[str] = DEFAULT_FAKE_MODELS,
        latency: float = 0.0,
        parallel: int | None = None,
    ) -> FakeOllama: ...


def forget_models() -> None:
    """Drop Inspect's memoised models and the preflight's memo.

    ``get_model`` memoises by name/config/explicit base URL, *not* by the
    ``OLLAMA_BASE_URL`` env var, so without this a later eval could reuse a model
    still pointing at an earlier (stopped) server.
    """
    from inspect_ai.model import _model

    from fof_inspect.preflight import _pulled

    _model._models.clear()
    _pulled.cache_clear()


@contextlib.contextmanager
def serving(
    script: Callable[[Request], str],
    models: Iterable[str] = DEFAULT_FAKE_MODELS,
    latency: float = 0.0,
    parallel: int | None = None,
) -> Iterator[FakeOllama]:
    """A started ``FakeOllama`` that ``OLLAMA_BASE_URL`` (Inspect's ``ollama/`` provider) and
    ``OLLAMA_HOST`` (the ``ollama`` client) point at; stopped and the variables restored after."""
    server = FakeOllama(script, models=models, latency=latency, parallel=parallel).start()
    saved = {key: os.environ.get(key) for key in _ENV}
    os.environ["OLLAMA_BASE_URL"] = server.base_url
    os.environ["OLLAMA_HOST"] = server.host
    forget_models()
    try:
        yield server
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        forget_models()
