"""Hardened sandbox containers: create, reset, remove, and never leave one behind.

A container idles (`sleep infinity` under docker-init) and runs each program through
the supervisor or the program server, which kill everything the program started, wipe
its scratch space and verify both; so a container can be reused for the next sample
once /workspace is cleared, and only if every clean-up in it was verified.
Every container carries labels naming the process that made it, so containers of a
process that died without cleaning up are removed by the next run.
"""

from __future__ import annotations

import atexit
import os
import socket
import threading
from dataclasses import dataclass, field

from docker.errors import APIError, ImageNotFound, NotFound

from fof_inspect.compat import PrerequisiteError
from fof_inspect.sandbox.channel import Channel
from fof_inspect.sandbox.config import SandboxConfig
from fof_inspect.sandbox.engine import engine, exec_with_input

LABEL = "fof-inspect.sandbox"
OWNER_LABEL = "fof-inspect.owner"
WORKSPACE = "/workspace"

_mine: set[str] = set()
_mine_lock = threading.Lock()


class SandboxImageMissingError(PrerequisiteError):
    """The sandbox image has not been built on this machine."""


@dataclass
class Container:
    """One running sandbox container and what we learned about it."""

    id: str
    python: str
    clean: bool = True
    """False once a clean-up in it could not be verified: it is then never used again."""
    server: Channel | None = field(default=None, repr=False)
    """The warm program server (the fast path of the grader's command), kept while the container idles."""
    workspace_written: bool = False
    """Whether write_file wrote to /workspace since the last reset (programs, as nobody, cannot)."""


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def check_image(config: SandboxConfig) -> None:
    """Fail early, with the command that fixes it, if the image is missing."""
    try:
        engine().images.get(config.image)
    except ImageNotFound:
        raise SandboxImageMissingError(
            f"The sandbox image {config.image} is not built on this machine. "
            "Build it once with `fof sandbox build` (add --offline where no container registry is reachable)."
        ) from None


def create(config: SandboxConfig) -> Container:
    """Start a container with every isolation setting the sandbox promises."""
    client = engine()
    container = client.containers.run(
        config.image,
        command=["sleep", "infinity"],
        detach=True,
        init=True,  # reaps what killed programs leave, or a fork bomb jams the container
        user="0",  # only the supervisor is root; programs run as SANDBOX_UID
        network_mode="none",
        read_only=True,
        tmpfs={"/tmp": f"size={config.tmp_size},mode=1777", WORKSPACE: "size=16m,mode=755"},
        shm_size="16m",
        mem_limit=config.memory,
        memswap_limit=config.memory,
        pids_limit=config.pids,
        nano_cpus=int(config.cpus * 1e9),
        cap_drop=["ALL"],
        cap_add=["SETUID", "SETGID"],  # for the supervisor to drop to the sandbox user
        security_opt=["no-new-privileges"],
        labels={LABEL: "1", OWNER_LABEL: owner()},
    )
    with _mine_lock:
        _mine.add(container.id)
    try:
        code, out, err = exec_with_input(container.id, ["/bin/sh", "-c", "command -v python3"], b"")
        if code != 0:
            raise RuntimeError(f"the image {config.image} has no python3: {err.decode(errors='replace')}")
    except BaseException:
        remove(container.id)
        raise
    return Container(id=container.id, python=out.decode().strip())


def reset(container: Container) -> None:
    """Clear the files written with write_file, so the next sample starts clean; raises
    if they are not all gone (the caller then discards the container)."""
    script = f"rm -rf {WORKSPACE}/* {WORKSPACE}/.[!.]* {WORKSPACE}/..?* && [ -z \"$(ls -A {WORKSPACE})\" ]"
    code, _, err = exec_with_input(container.id, ["/bin/sh", "-c", script], b"")
    if code != 0:
        raise RuntimeError(f"the workspace of container {container.id[:12]} could not be cleared: {err[-200:]!r}")


def remove(container_id: str) -> None:
    try:
        engine().api.remove_container(container_id, force=True)
    except NotFound:
        pass
    except APIError as ex:
        if "already in progress" not in str(ex):
            raise
    with _mine_lock:
        _mine.discard(container_id)


def remove_stale() -> list[str]:
    """Remove sandbox containers whose owning process on this host is gone."""
    host = socket.gethostname()
    removed = []
    for container_id, labels in _listed():
        owner_host, _, pid = labels.get(OWNER_LABEL, ":").rpartition(":")
        if owner_host == host and pid.isdigit() and not _alive(int(pid)):
            remove(container_id)
            removed.append(container_id)
    return removed


def remove_all(only: str | None = None) -> list[str]:
    """Remove every sandbox container (or the one whose id starts with `only`)."""
    removed = []
    for container_id, _ in _listed():
        if only is None or container_id.startswith(only):
            remove(container_id)
            removed.append(container_id)
    return removed


def _listed() -> list[tuple[str, dict[str, str]]]:
    """(id, labels) of every sandbox container, from one listing: the SDK's
    `containers.list` inspects each one afterwards and fails on any that another
    process removed in the meantime."""
    return [(c["Id"], c.get("Labels") or {}) for c in engine().api.containers(all=True, filters={"label": LABEL})]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@atexit.register
def _remove_mine_at_exit() -> None:
    """Last resort for an interrupted run: nothing this process started outlives it."""
    with _mine_lock:
        leftover = list(_mine)
    for container_id in leftover:
        try:
            remove(container_id)
        except Exception:
            pass
