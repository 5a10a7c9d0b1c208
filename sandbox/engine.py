"""The Docker engine, reached through its API (the `docker` SDK), not `docker compose`.

Inspect's built-in docker sandbox needs compose >= 2.21 and engine >= 24; this
module needs only an engine that answers the API, which is what users and CI have.
"""

from __future__ import annotations

import socket
from functools import lru_cache
from typing import Any

import docker
from docker.errors import DockerException
from docker.utils.socket import STDERR, STDOUT, frames_iter

from fof_inspect.compat import PrerequisiteError

START_HINT = (
    "Start it (`sudo systemctl start docker`, or `sudo dockerd > /tmp/dockerd.log 2>&1 &` "
    "where there is no systemd) and try again, or run without isolation with "
    "-T sandbox=local."
)


class DockerNotRunningError(PrerequisiteError):
    """The Docker engine does not answer: one line that says how to start it."""


def engine() -> docker.DockerClient:
    """A client for the engine named by DOCKER_HOST (default: the local socket)."""
    try:
        return _cached_engine()
    except DockerException as ex:
        _cached_engine.cache_clear()
        raise DockerNotRunningError(
            f"Docker is not running (cannot reach the Docker engine: {_reason(ex)}). {START_HINT}"
        ) from ex


@lru_cache(maxsize=1)
def _cached_engine() -> docker.DockerClient:
    client = docker.from_env(timeout=60)
    client.ping()
    return client


def _reason(ex: Exception) -> str:
    text = str(ex).strip().splitlines()
    return text[-1][:200] if text else type(ex).__name__


def exec_with_input(
    container_id: str,
    cmd: list[str],
    data: bytes,
    *,
    user: str = "0",
    timeout: float = 60.0,
) -> tuple[int, bytes, bytes]:
    """Run `cmd` in a container with `data` on stdin; return (exit code, stdout, stderr).

    Blocking; callers run it in a thread. `timeout` bounds every socket read, since the
    SDK's stream reader has none of its own: a read that waits longer raises TimeoutError.
    """
    api = engine().api
    exec_id = api.exec_create(container_id, cmd, stdin=True, stdout=True, stderr=True, user=user)["Id"]
    conn = api.exec_start(exec_id, socket=True)
    raw = getattr(conn, "_sock", conn)
    try:
        raw.settimeout(timeout)
        if data:
            raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)
        streams = {STDOUT: bytearray(), STDERR: bytearray()}
        for stream, chunk in frames_iter(conn, tty=False):
            streams.get(stream, streams[STDERR]).extend(chunk)
    except socket.timeout as ex:
        raise TimeoutError(f"no answer from the container within {timeout:.0f} s") from ex
    finally:
        hang_up(conn)
    exit_code = api.exec_inspect(exec_id)["ExitCode"]
    return int(exit_code if exit_code is not None else -1), bytes(streams[STDOUT]), bytes(streams[STDERR])


def hang_up(conn: Any) -> None:
    """Close an exec's hijacked connection (what `exec_start(socket=True)` returned) for
    good. Closing only that object leaves the socket open until the garbage collector
    finds the HTTP response holding it, and then the response's own close fails."""
    sock = getattr(conn, "_sock", conn)
    if sock is None:
        return  # hung up already
    try:
        sock.shutdown(socket.SHUT_RDWR)  # at once, whoever else still holds the socket
    except OSError:
        pass
    sock.close()
    response = getattr(conn, "_response", None)  # holds the socket's last reference
    if response is not None:
        response.close()
