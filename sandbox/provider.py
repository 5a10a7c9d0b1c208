"""`fof_docker`: an Inspect sandbox provider on the Docker engine API.

Use it as `sandbox=("fof_docker")` or `SandboxEnvironmentSpec("fof_docker", SandboxConfig(...))`.

Each exec runs through the supervisor (supervisor.py): as an unprivileged user, in a
fresh scratch directory, under a hard wall-clock limit (the caller's `timeout`, else the
config's) that kills the whole process tree; a timeout is never retried. Nothing a
command writes survives it. Files placed with `write_file` live in /workspace (relative
paths resolve there), readable by commands, kept until the sample ends.

The grader's command (`GRADE_COMMAND`, fof_inspect/grading/command.py: a Python program
on stdin, run as `python3 -I solution.py`) takes a fast path when given exactly, with
no cwd, env or user: the same isolation and result, but run by a warm server in the
container (server.py) over one long-lived exec (channel.py), a few milliseconds instead
of ~100. It is still an `exec`, so Inspect's proxy logs and limits it as any other.

Containers are pooled per task: a sample takes an idle one or starts one, and gives it
back cleaned when it ends, so an eval starts as many containers as it runs samples at once.
`task_init` starts `SandboxConfig.prestart` of them (servers warm) in the background, so
container start overlaps Inspect's own start-up instead of the first samples.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import posixpath
from typing import Any, Literal, Union, overload

from inspect_ai.util import (
    ExecResult,
    OutputLimitExceededError,
    SandboxEnvironment,
    SandboxEnvironmentConfigType,
    SandboxUnavailableError,
    SandboxUserUnsupportedError,
    sandboxenv,
)
from docker.errors import APIError
from pydantic import BaseModel

from fof_inspect.grading.command import GRADE_COMMAND
from fof_inspect.sandbox import containers
from fof_inspect.sandbox.channel import Channel, ChannelBroken
from fof_inspect.sandbox.config import SANDBOX_UID, SandboxConfig
from fof_inspect.sandbox.engine import exec_with_input
from fof_inspect.sandbox.payload import script

logger = logging.getLogger(__name__)

SUPERVISOR = script("supervisor.py")
SERVER = script("server.py")
SERVER_ENV = {"LANG": "C.UTF-8"}
"""The locale a program's interpreter starts with (the supervisor's children get it too)."""
SERVER_START_SECONDS = 60.0
SLACK_SECONDS = 30.0
"""How much longer than the program's limit the host waits for the supervisor or server."""
READ_LIMIT = 100 * 1024**2


@sandboxenv(name="fof_docker")
class FofDockerSandbox(SandboxEnvironment):
    """A hardened, pooled Docker container per running sample."""

    _idle: dict[SandboxConfig, list[containers.Container]] = {}
    _outstanding: dict[SandboxConfig, set[asyncio.Future[containers.Container]]] = {}
    _starting: dict[SandboxConfig, list[asyncio.Future[containers.Container]]] = {}
    """Containers task_init started for the first samples, not yet handed to one."""

    def __init__(self, container: containers.Container, config: SandboxConfig) -> None:
        super().__init__()
        self.container = container
        self.config = config
        self._lock = asyncio.Lock()

    # ---- lifecycle -------------------------------------------------------------

    @classmethod
    def config_deserialize(cls, config: dict[str, Any]) -> BaseModel:
        return SandboxConfig(**config)

    @classmethod
    def default_concurrency(cls) -> int | None:
        """Containers at once: on a laptop more than ~2 per core only add contention
        (bench/harness.py: 8 beat 32 on 2 cores)."""
        return max(8, 2 * (os.cpu_count() or 1))

    @classmethod
    async def task_init(cls, task_name: str, config: SandboxEnvironmentConfigType | None) -> None:
        cfg = _config(config)
        await asyncio.to_thread(containers.check_image, cfg)
        await asyncio.to_thread(containers.remove_stale)
        starting = cls._starting.setdefault(cfg, [])
        for _ in range(cfg.prestart - len(starting) - len(cls._idle.get(cfg, []))):
            warming = asyncio.ensure_future(_warm_container(cfg))
            starting.append(warming)
            cls._outstanding.setdefault(cfg, set()).add(warming)  # task_cleanup removes it if no sample does

    @classmethod
    async def sample_init(
        cls, task_name: str, config: SandboxEnvironmentConfigType | None, metadata: dict[str, str]
    ) -> dict[str, SandboxEnvironment]:
        cfg = _config(config)
        idle = cls._idle.setdefault(cfg, [])
        starting = cls._starting.get(cfg)
        if idle:
            getting: asyncio.Future[containers.Container] = asyncio.get_running_loop().create_future()
            getting.set_result(idle.pop())
        elif starting:
            getting = starting.pop(next((i for i, f in enumerate(starting) if f.done()), 0))
        else:
            getting = asyncio.ensure_future(asyncio.to_thread(containers.create, cfg))
        # every container handed to (or starting for) a sample stays listed until the sample
        # gives it back, so task_cleanup (run once per eval, after all its samples) removes any
        # that a cancelled sample (an eval failing or interrupted) never gave back; shielded
        # so a container that is still starting is not orphaned by the cancellation
        cls._outstanding.setdefault(cfg, set()).add(getting)
        return {"default": cls(await asyncio.shield(getting), cfg)}

    @classmethod
    async def sample_cleanup(
        cls,
        task_name: str,
        config: SandboxEnvironmentConfigType | None,
        environments: dict[str, SandboxEnvironment],
        interrupted: bool,
    ) -> None:
        for env in environments.values():
            box = env.as_type(FofDockerSandbox)
            try:
                if interrupted:
                    raise RuntimeError("interrupted")
                if box.container.workspace_written:  # else nothing wrote there: /workspace is root's
                    await asyncio.to_thread(containers.reset, box.container)
                    box.container.workspace_written = False
                cls._idle.setdefault(box.config, []).append(box.container)  # its server stays warm
            except Exception:
                await asyncio.to_thread(_discard, box.container)
            cls._outstanding[box.config] = {
                f for f in cls._outstanding.get(box.config, set()) if not _holds(f, box.container)
            }

    @classmethod
    async def task_cleanup(
        cls, task_name: str, config: SandboxEnvironmentConfigType | None, cleanup: bool
    ) -> None:
        cfg = _config(config)
        cls._starting.pop(cfg, None)
        leftover = await asyncio.gather(*cls._outstanding.pop(cfg, set()), return_exceptions=True)
        doomed = cls._idle.pop(cfg, []) + [c for c in leftover if isinstance(c, containers.Container)]
        if cleanup:
            await asyncio.gather(*(asyncio.to_thread(_discard, c) for c in doomed))
        else:
            for container in doomed:
                _close_server(container)  # the server exits; the container stays for inspection

    @classmethod
    async def cli_cleanup(cls, id: str | None) -> None:
        await asyncio.to_thread(containers.remove_all, id)

    # ---- execution -------------------------------------------------------------

    async def exec(
        self,
        cmd: list[str],
        input: str | bytes | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        user: str | None = None,
        timeout: int | None = None,
        timeout_retry: bool = True,
        concurrency: bool = True,
    ) -> ExecResult[str]:
        if user not in (None, "nobody", str(SANDBOX_UID)):
            raise SandboxUserUnsupportedError(f"fof_docker runs commands only as nobody, not {user}")
        limit = float(timeout) if timeout else self.config.timeout
        if cmd == GRADE_COMMAND and not cwd and not env:
            source = input.decode("utf-8", "surrogateescape") if isinstance(input, bytes) else input or ""
            return await self._run_program(source, limit)
        spec = {
            "cmd": cmd,
            "cwd": _resolve(cwd) if cwd else None,
            "env": env or {},
            "uid": SANDBOX_UID,
            "gid": SANDBOX_UID,
            "timeout": limit,
            "output_cap": self.config.output_cap,
            "mem_bytes": self.config.memory_bytes,
        }
        data = input.encode() if isinstance(input, str) else (input or b"")
        code, out, err = await self._raw(
            [self.container.python, "-I", "-c", SUPERVISOR, json.dumps(spec)], data, limit + SLACK_SECONDS
        )
        try:
            result = json.loads(out)
        except ValueError:
            raise SandboxUnavailableError(
                f"the sandbox supervisor failed (exit {code}): {err.decode(errors='replace')[-500:]}"
            ) from None
        return _exec_result(result, limit)

    async def _run_program(self, source: str, limit: float) -> ExecResult[str]:
        """`exec(GRADE_COMMAND, input=source)` through the container's warm program server:
        the same limits, isolation and result (TimeoutError included).

        If the server dies mid-program (or never answers), the program fails as killed -
        never a pass - and the next one gets a new server, or a new container."""
        request = {
            "op": "run",
            "source": source,
            "timeout": limit,
            "output_cap": self.config.output_cap,
            "mem_bytes": self.config.memory_bytes,
        }
        async with self._lock:
            server = await self._server()
            try:
                result = await server.request(request, limit + SLACK_SECONDS)
            except ChannelBroken as ex:
                logger.warning("sandbox program server lost in container %s: %s", self.container.id[:12], ex)
                result = _lost_result()
        return _exec_result(result, limit)

    async def write_file(self, file: str, contents: str | bytes) -> None:
        path = _resolve(file)
        data = contents.encode() if isinstance(contents, str) else contents
        script = 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"'
        self.container.workspace_written = True
        code, _, err = await self._raw(["/bin/sh", "-c", script, "sh", path], data, 60)
        if code != 0:
            _raise_file_error(path, err)

    @overload
    async def read_file(self, file: str, text: Literal[True] = True) -> str: ...

    @overload
    async def read_file(self, file: str, text: Literal[False]) -> bytes: ...

    async def read_file(self, file: str, text: bool = True) -> Union[str, bytes]:
        path = _resolve(file)
        code, out, err = await self._raw(["/bin/cat", "--", path], b"", 60)
        if code != 0:
            _raise_file_error(path, err)
        if len(out) > READ_LIMIT:
            raise OutputLimitExceededError(limit_str="100 MiB", truncated_output=None)
        return out.decode() if text else out

    async def _raw(self, cmd: list[str], data: bytes, timeout: float) -> tuple[int, bytes, bytes]:
        """One root exec at a time per container: the supervisor's clean-up kills
        every sandbox-user process, so concurrent programs must not share a container."""
        async with self._lock:
            try:
                return await asyncio.to_thread(
                    exec_with_input, self.container.id, cmd, data, user="0", timeout=timeout
                )
            except TimeoutError:
                # the supervisor itself is stuck: this container cannot be trusted again
                await asyncio.to_thread(_discard, self.container)
                raise

    async def _server(self) -> Channel:
        """The container's program server, (re)started if need be; a container that
        cannot start one (it died, or was removed) is replaced. Called under the lock."""
        server = self.container.server
        if server is not None and server.alive():
            return server
        try:
            return await self._start_server()
        except (ChannelBroken, APIError) as ex:
            logger.warning("replacing sandbox container %s: %s", self.container.id[:12], ex)
        await asyncio.to_thread(_discard, self.container)
        self.container = await asyncio.to_thread(containers.create, self.config)
        given: asyncio.Future[containers.Container] = asyncio.get_running_loop().create_future()
        given.set_result(self.container)
        type(self)._outstanding.setdefault(self.config, set()).add(given)  # listed as sample_init's are
        try:
            return await self._start_server()
        except (ChannelBroken, APIError) as ex:
            raise SandboxUnavailableError(f"the sandbox cannot start its program server: {ex}") from ex

    async def _start_server(self) -> Channel:
        return await _start_server(self.container)


async def _start_server(container: containers.Container) -> Channel:
    _close_server(container)  # a new server stops any old one still running
    spec = json.dumps({"uid": SANDBOX_UID, "gid": SANDBOX_UID})
    cmd = [container.python, "-I", "-c", SERVER, spec]
    container.server = await Channel.open(container.id, cmd, SERVER_ENV, SERVER_START_SECONDS)
    return container.server


async def _warm_container(config: SandboxConfig) -> containers.Container:
    """A new container with its program server started (if that fails, the first program
    starts one, as after any server loss)."""
    container = await asyncio.to_thread(containers.create, config)
    try:
        await _start_server(container)
    except (ChannelBroken, APIError) as ex:
        logger.warning("sandbox container %s: program server not started yet: %s", container.id[:12], ex)
    return container


def _exec_result(result: dict[str, Any], limit: float) -> ExecResult[str]:
    """An ExecResult from the supervisor's (or server's) JSON; TimeoutError if it timed out."""
    if result["timed_out"]:
        raise TimeoutError(f"Command timed out after {limit:g} s (process tree killed)")
    stderr = result["stderr"]
    if result["oom_killed"]:
        stderr += "\nMemoryError: killed by the sandbox's memory limit\n"
    return ExecResult(
        success=result["returncode"] == 0,
        returncode=result["returncode"],
        stdout=result["stdout"],
        stderr=stderr,
    )


def _lost_result() -> dict[str, Any]:
    """What a program whose server died under it did, as far as grading goes: it was killed."""
    return {
        "returncode": -9,
        "timed_out": False,
        "oom_killed": False,
        "stdout": "",
        "stderr": "Killed: the sandbox's program server stopped while this program ran.\n",
    }


def _close_server(container: containers.Container) -> None:
    if container.server is not None:
        container.server.close()
        container.server = None


def _discard(container: containers.Container) -> None:
    """Remove a container for good (closing its server's channel first)."""
    _close_server(container)
    containers.remove(container.id)


def _holds(getting: asyncio.Future[containers.Container], container: containers.Container) -> bool:
    """Whether a finished container request produced `container` (a failed one produced none)."""
    return getting.done() and not getting.cancelled() and getting.exception() is None and getting.result() is container


def _config(config: SandboxEnvironmentConfigType | None) -> SandboxConfig:
    if config is None:
        return SandboxConfig()
    if isinstance(config, SandboxConfig):
        return config
    if isinstance(config, BaseModel):
        return SandboxConfig(**config.model_dump())
    raise ValueError(
        "fof_docker takes a SandboxConfig (e.g. SandboxEnvironmentSpec('fof_docker', SandboxConfig())), "
        f"not {config!r}"
    )


def _resolve(path: str) -> str:
    return path if posixpath.isabs(path) else posixpath.join(containers.WORKSPACE, path)


def _raise_file_error(path: str, err: bytes) -> None:
    message = err.decode(errors="replace").strip()
    if "No such file" in message:
        raise FileNotFoundError(path)
    if "Is a directory" in message:
        raise IsADirectoryError(path)
    if "Permission denied" in message or "Read-only" in message:
        raise PermissionError(f"{path}: {message}")
    raise RuntimeError(f"{path}: {message}")

