"""Shared pytest fixtures: registered here, built from `tests/support/` (which tests import directly).

A test needs Docker exactly when it uses the `docker_sandbox` fixture (directly or through
`pytestmark = pytest.mark.usefixtures("docker_sandbox")`); such tests get the `docker` marker
automatically, so `python -m pytest -m "not docker"` runs everything else.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from support.fake_ollama import FakeOllama, Request
from support.serving import DEFAULT_FAKE_MODELS, FakeOllamaFactory, serving  # noqa: F401 (the fixture's type)
from support.sandbox import check_sandbox


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "docker_sandbox" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.docker)


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllamaFactory]:
    """Factory starting ``FakeOllama`` servers (the newest one is the one in use), stopped at teardown."""
    with contextlib.ExitStack() as stack:

        def start(
            script: Callable[[Request], str],
            models: Iterable[str] = DEFAULT_FAKE_MODELS,
            latency: float = 0.0,
            parallel: int | None = None,
        ) -> FakeOllama:
            return stack.enter_context(serving(script, models, latency, parallel))

        yield start


@pytest.fixture(scope="session")
def docker_sandbox() -> None:
    """Fail (never skip) when the engine or image is missing: these tests are the point."""
    check_sandbox()


@pytest.fixture(scope="session")
def data_dir() -> str:
    """The offline benchmark data: $FOF_DATA_DIR, else ../shared/data beside the checkout."""
    path = os.environ.get("FOF_DATA_DIR") or str(Path(__file__).resolve().parents[2] / "shared" / "data")
    assert (Path(path) / "mbpp" / "sanitized-mbpp.json").is_file(), f"no MBPP data under {path}: set FOF_DATA_DIR"
    return path
