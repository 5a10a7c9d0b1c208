"""Sandbox helpers: this process's sandbox containers, and one sandbox through its whole life cycle."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable

from fof_inspect.sandbox.config import SandboxConfig
from fof_inspect.sandbox.provider import FofDockerSandbox

SANDBOX_LABEL = "fof-inspect.sandbox"


def check_sandbox() -> None:
    """Fail (never skip) when the engine or image is missing, with the command that fixes it."""
    from fof_inspect.sandbox.containers import check_image

    check_image(SandboxConfig())


def sandbox_containers(pid: int | None = None) -> list[str]:
    """Ids of the sandbox containers made by process `pid` (default: this one), so tests
    running at the same time elsewhere on the machine do not count."""
    from fof_inspect.sandbox.containers import OWNER_LABEL
    from fof_inspect.sandbox.engine import engine

    owner = f"{OWNER_LABEL}={socket.gethostname()}:{pid or os.getpid()}"
    return [c["Id"] for c in engine().api.containers(all=True, filters={"label": [SANDBOX_LABEL, owner]})]


def in_sandbox(body: Callable[[FofDockerSandbox], Awaitable[None]], config: SandboxConfig | None = None) -> None:
    """Run `body` against one sandbox through the provider's whole life cycle."""
    config = config or SandboxConfig(timeout=3)

    async def run() -> None:
        await FofDockerSandbox.task_init("test", config)
        envs = await FofDockerSandbox.sample_init("test", config, {})
        try:
            await body(envs["default"].as_type(FofDockerSandbox))
        finally:
            await FofDockerSandbox.sample_cleanup("test", config, envs, False)
            await FofDockerSandbox.task_cleanup("test", config, True)

    asyncio.run(run())
