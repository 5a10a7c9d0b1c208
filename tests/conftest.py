"""Shared pytest fixtures.

Keep each fixture self-contained (own section, own helpers) so that fixtures
added later do not tangle with the fake-Ollama plumbing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

import pytest

from fake_ollama import FakeOllama, Request
from fof_inspect.compat import clear_model_cache

# --------------------------------------------------------------------------
# Fake Ollama server
# --------------------------------------------------------------------------

DEFAULT_FAKE_MODELS: frozenset[str] = frozenset({"llama3.2:3b", "qwen2.5:1.5b"})


class FakeOllamaFactory(Protocol):
    """Signature of the ``fake_ollama`` fixture (for type hints in tests)."""

    def __call__(
        self,
        script: Callable[[Request], str],
        models: Iterable[str] = DEFAULT_FAKE_MODELS,
        latency: float = 0.0,
        parallel: int | None = None,
    ) -> FakeOllama: ...


@pytest.fixture
def fake_ollama(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOllamaFactory]:
    """Factory starting ``FakeOllama`` servers, stopped at teardown.

    Each call points ``OLLAMA_BASE_URL`` (Inspect's ``ollama/`` provider) and
    ``OLLAMA_HOST`` (the ``ollama`` client) at the newest server.
    """
    servers: list[FakeOllama] = []

    def start(
        script: Callable[[Request], str],
        models: Iterable[str] = DEFAULT_FAKE_MODELS,
        latency: float = 0.0,
        parallel: int | None = None,
    ) -> FakeOllama:
        server = FakeOllama(script, models=models, latency=latency, parallel=parallel)
        server.start()
        servers.append(server)
        monkeypatch.setenv("OLLAMA_BASE_URL", server.base_url)
        monkeypatch.setenv("OLLAMA_HOST", server.host)
        clear_model_cache()
        return server

    yield start

    for server in reversed(servers):
        server.stop()
    clear_model_cache()


# --------------------------------------------------------------------------
# Docker sandbox
# --------------------------------------------------------------------------

SANDBOX_LABEL = "fof-inspect.sandbox"


@pytest.fixture(scope="session")
def docker_sandbox() -> None:
    """Fail (never skip) when the engine or image is missing: these tests are the point."""
    from fof_inspect.sandbox.config import SandboxConfig
    from fof_inspect.sandbox.containers import check_image

    check_image(SandboxConfig())  # raises with the command that fixes it


def sandbox_containers(pid: int | None = None) -> list[str]:
    """Ids of the sandbox containers made by process `pid` (default: this one), so tests
    running at the same time elsewhere on the machine do not count."""
    import os
    import socket

    from fof_inspect.sandbox.containers import OWNER_LABEL
    from fof_inspect.sandbox.engine import engine

    owner = f"{OWNER_LABEL}={socket.gethostname()}:{pid or os.getpid()}"
    return [c["Id"] for c in engine().api.containers(all=True, filters={"label": [SANDBOX_LABEL, owner]})]


# --------------------------------------------------------------------------
# Benchmark data
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def data_dir() -> str:
    """The offline benchmark data: $FOF_DATA_DIR, else ../shared/data beside the checkout."""
    import os
    from pathlib import Path

    path = os.environ.get("FOF_DATA_DIR") or str(Path(__file__).resolve().parents[2] / "shared" / "data")
    assert (Path(path) / "mbpp" / "sanitized-mbpp.json").is_file(), f"no MBPP data under {path}: set FOF_DATA_DIR"
    return path
