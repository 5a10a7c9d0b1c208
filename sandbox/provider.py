"""`fof_docker`: an Inspect sandbox provider on the Docker engine API.

Use it as `sandbox=("fof_docker")` or `SandboxEnvironmentSpec("fof_docker", SandboxConfig(...))`.

Each exec runs through the supervisor (supervisor.py): as an unprivileged user, in a
fresh scratch directory, under a hard wall-clock limit (the caller's `timeout`, else the
config's) that kills the whole process tree; a timeout is never retried. Nothing a
command writes survives it. Files placed with `write_file` live in /workspace (relative
paths resolve there), readable by commands, kept until the sample ends.

The grader's command (`GRADE_COMMAND`, fof_inspect/grading/command.py: the grading runner
and its request on stdin) and `SCRIPT_COMMAND` (a program on stdin run as
`python3 -I solution.py`) take a fast path when given exactly, with
no cwd, env or user: the same isolation and result, but run by a warm server in the
container (server.py) over one long-lived exec (channel.py), a few milliseconds instead
of ~100. It is still an `exec`, so Inspect's proxy logs and limits it as any other.

Containers are pooled per config (so across the tasks of one eval): a sample takes an
idle one or starts one, and gives it back when it ends, so an eval starts as many
containers as it runs samples at once. Pooling fails closed: after every program or
command the container's killer verifies it clean (no sandbox process left, scratch
areas empty, no IPC object); a container that fails that check is discarded and
replaced at once (the program that ran keeps its result), and one whose server broke
mid-program is verified again by its next server before anything runs.
`task_init` starts `SandboxConfig.prestart` containers (servers warm) in the background,
so container start overlaps Inspect's own start-up instead of the first samples.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import math
import os
import posixpath
import weakref
from typing import Any, Literal, Union, overload

from inspect_ai.util import (
    ExecResult,
    OutputLimitExceededError,
    SandboxEnvironment,
    SandboxEnvironmentConfigType,
    SandboxEnvironmentLimits,
    SandboxUnavailableError,
    SandboxUserUnsupportedError,
    sandboxenv,
)
from docker.errors import APIError
from pydantic import BaseModel

from fof_inspect.grading.command import GRADE_COMMAND, SCRIPT_COMMAND, without_runner
from fof_inspect.sandbox import containers
from fof_inspect.sandbox.channel import Channel, ChannelBroken
from fof_inspect.sandbox.config import KILLER_UID, SANDBOX_UID, SANDBOX_UIDS, SandboxConfig
from fof_inspect.sandbox.engine import exec_with_input
from fof_inspect.sandbox.payload import script

logger = logging.getLogger(__name__)

SUPERVISOR = script("supervisor.py")
SERVER = script("server.py")
JAIL_SPEC = {"uid": SANDBOX_UID, "gid": SANDBOX_UID, "uids": list(SANDBOX_UIDS), "killer_uid": KILLER_UID}
"""Who programs run as, whom the clean-up kills and verifies, and whom it kills as."""
SERVER_ENV = {"LANG": "C.UTF-8"}
"""The locale a program's interpreter starts with (the supervisor's children get it too)."""
SERVER_START_SECONDS = 60.0
SLACK_SECONDS = 30.0
"""How much longer than the program's limit the host waits for the supervisor or server."""


@sandboxenv(name="fof_docker")
class FofDockerSandbox(SandboxEnvironment):
    """A hardened, pooled Docker container per running sample."""

    _idle: dict[SandboxConfig, list[containers.Container]] = {}
    _outstanding: dict[SandboxConfig, set[asyncio.Future[containers.Container]]] = {}
    _starting: dict[SandboxConfig, list[asyncio.Future[containers.Container]]] = {}
    """Containers task_init started for the first samples, not yet handed to one."""
    _slots_by_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[SandboxConfig, asyncio.Semaphore]]" = (
        weakref.WeakKeyDictionary()
    )

    def __init__(
        self, container: containers.Container, config: SandboxConfig, slot: asyncio.Semaphore | None = None
    ) -> None:
        super().__init__()
        self.container = container
        self.config = config
        self._lock = asyncio.Lock()
        self._slot = slot
        """The container-cap slot this sample holds until sample_cleanup."""

    # ---- lifecycle -------------------------------------------------------------

    @classmethod
    def config_deserialize(cls, config: dict[str, Any]) -> BaseModel:
        return SandboxConfig(**config)

    @classmethod
    def default_concurrency(cls) -> int | None:
        """None: the provider caps its containers itself where asked (`max_containers`, in sample_init).
        Inspect's own cap (max_sandboxes) makes every sample sleep a random 0-1 s before its
        sandbox starts, to interleave tasks fairly: 0.5 s of a 20 ms sample, the largest
        cost of a reference eval (bench/README.md)."""
        return None

    @staticmethod
    def container_limit(config: SandboxConfig) -> int:
        """Containers in use at once: `max_containers`, or as many as the eval runs samples at
        once, which on a laptop should stay near 2 per core (bench/harness.py: 8 beat 32 on 2
        cores); used to size `prestart`."""
        return config.max_containers or max(8, 2 * (os.cpu_count() or 1))

    @classmethod
    def _slots(cls, config: SandboxConfig) -> asyncio.Semaphore | None:
        """The running event loop's semaphore of `config`'s containers (each eval runs a loop of
        its own), if `max_containers` caps them. Unset, nothing is waited for: sample_cleanup
        may never come (--no-sandbox-cleanup), and a single task's samples are already bounded
        by Inspect's max_samples."""
        if config.max_containers is None:
            return None
        per_loop = cls._slots_by_loop.setdefault(asyncio.get_running_loop(), {})
        if config not in per_loop:
            per_loop[config] = asyncio.Semaphore(config.max_containers)
        return per_loop[config]

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
        slot = cls._slots(cfg)
        if slot is not None:
            await slot.acquire()
        try:
            return {"default": cls(await cls._take_container(cfg), cfg, slot)}
        except BaseException:
            if slot is not None:
                slot.release()
            raise

    @classmethod
    async def _take_container(cls, cfg: SandboxConfig) -> containers.Container:
        """An idle container, one task_init started, or a new one."""
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
        return await asyncio.shield(getting)

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
                if interrupted or not box.container.clean:
                    raise RuntimeError("interrupted or not verified clean")
                if box.container.workspace_written:  # else nothing wrote there: /workspace is root's
                    await asyncio.to_thread(containers.reset, box.container)
                    box.container.workspace_written = False
                cls._idle.setdefault(box.config, []).append(box.container)  # its server stays warm
            except Exception:
                await asyncio.to_thread(_discard, box.container)
            cls._outstanding[box.config] = {
                f for f in cls._outstanding.get(box.config, set()) if not _holds(f, box.container)
            }
            slot, box._slot = box._slot, None
            if slot is not None:
                slot.release()

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
        if (cmd == GRADE_COMMAND or cmd == SCRIPT_COMMAND) and not cwd and not env:
            source = input.decode("utf-8", "surrogateescape") if isinstance(input, bytes) else input or ""
            return await self._run_program(source, limit, "grade" if cmd == GRADE_COMMAND else "script")
        spec = {
            "cmd": cmd,
            "cwd": _resolve(cwd) if cwd else None,
            "env": env or {},
            **JAIL_SPEC,
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
        if not result.get("clean"):
            async with self._lock:
                await self._replace_container("its clean-up after a command could not be verified")
        if _not_started(result, "PermissionError"):
            # as Inspect's contract says (and its docker and local sandboxes do): a command
            # that may not be executed raises, one that is missing is an ordinary exit 127
            raise PermissionError(errno.EACCES, "permission denied: cannot execute", cmd[0])
        return _exec_result(result, limit)

    async def _run_program(self, source: str, limit: float, kind: str = "script") -> ExecResult[str]:
        """`exec(GRADE_COMMAND, input=source)` through the container's warm program server:
        the same isolation and result (TimeoutError included), but `limit` is a CPU-time
        budget per process, with `limit x wall_factor` seconds of wall clock as the
        backstop, moved on by the time the machine's load kept the program waiting for a
        CPU (up to `limit x max_wall_factor`), so that load does not turn slow programs
        into timeouts.

        If the server dies mid-program (or never answers), the program fails as killed -
        never a pass - and the next one gets a new server, or a new container. If the
        clean-up after the program cannot be verified, the program keeps its result and
        the container is replaced before anything else runs."""
        runner = None
        if kind == "grade" and (short := without_runner(source)) is not None:
            source, runner = short, "loaded"  # the server holds this very runner
        wall = limit * self.config.wall_factor
        hard = limit * max(self.config.max_wall_factor, self.config.wall_factor)
        request = {
            "op": "run",
            "kind": kind,
            "runner": runner,
            "source": source,
            "timeout": wall,
            "hard_timeout": hard,
            "cpu_seconds": math.ceil(limit),
            "output_cap": self.config.output_cap,
            "mem_bytes": self.config.memory_bytes,
        }
        async with self._lock:
            server = await self._server()
            try:
                result = await server.request(request, hard + SLACK_SECONDS)
            except ChannelBroken as ex:
                logger.warning("sandbox program server lost in container %s: %s", self.container.id[:12], ex)
                result = _lost_result()
            else:
                if not result.get("clean"):
                    await self._replace_container("its clean-up after a program could not be verified")
        return _exec_result(result, wall)

    async def write_file(self, file: str, contents: str | bytes) -> None:
        path = _resolve(file)
        data = contents.encode() if isinstance(contents, str) else contents
        # a write that fails midway (out of space) leaves no partial file behind
        script = 'mkdir -p -- "$(dirname -- "$1")" && { cat > "$1" || { rm -f -- "$1" 2>/dev/null; exit 1; }; }'
        self.container.workspace_written = True
        try:
            code, _, err = await self._raw(["/bin/sh", "-c", script, "sh", path], data, 60)
        except (BrokenPipeError, ConnectionResetError):
            # the writer died before taking all of the contents: out of space
            await self._raw(["/bin/rm", "-f", "--", path], b"", 60)
            raise OSError(errno.ENOSPC, "no space left in the sandbox for a file this large", path) from None
        if code != 0:
            _raise_file_error(path, err)

    @overload
    async def read_file(self, file: str, text: Literal[True] = True) -> str: ...

    @overload
    async def read_file(self, file: str, text: Literal[False]) -> bytes: ...

    async def read_file(self, file: str, text: bool = True) -> Union[str, bytes]:
        path = _resolve(file)
        limit = SandboxEnvironmentLimits.MAX_READ_FILE_SIZE  # Inspect's, per context
        code, out, err = await self._raw(["/usr/bin/head", "-c", str(limit + 1), "--", path], b"", 60)
        if code != 0:
            _raise_file_error(path, err)
        if len(out) > limit:
            raise OutputLimitExceededError(limit_str=SandboxEnvironmentLimits.MAX_READ_FILE_SIZE_STR, truncated_output=None)
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
                # the supervisor itself is stuck: this container cannot be trusted again, and
                # the sample goes on in a new one (not in a removed one: every later call failing)
                await self._replace_container("no answer from the container in time")
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
            await self._replace_container(str(ex))
        try:
            return await self._start_server()
        except (ChannelBroken, APIError) as ex:
            raise SandboxUnavailableError(f"the sandbox cannot start its program server: {ex}") from ex

    async def _start_server(self) -> Channel:
        """A new server (it stops any old one still running, kills and wipes what that
        one's program left, and says whether it verified the container clean)."""
        return await _start_server(self.container)

    async def _replace_container(self, reason: str) -> None:
        """Discard this sample's container and give it a new one (fail closed: a container
        that is not verified clean is never used again). Called under the lock."""
        logger.warning("replacing sandbox container %s: %s", self.container.id[:12], reason)
        self.container.clean = False
        await asyncio.to_thread(_discard, self.container)
        self.container = await asyncio.to_thread(containers.create, self.config)
        given: asyncio.Future[containers.Container] = asyncio.get_running_loop().create_future()
        given.set_result(self.container)
        type(self)._outstanding.setdefault(self.config, set()).add(given)  # listed as sample_init's are


async def _start_server(container: containers.Container) -> Channel:
    """The container's new program server; ChannelBroken unless it verified the container clean."""
    _close_server(container)
    cmd = [container.python, "-I", "-c", SERVER, json.dumps(JAIL_SPEC)]
    server = await Channel.open(container.id, cmd, SERVER_ENV, SERVER_START_SECONDS)
    container.server = server
    if not server.hello.get("clean"):
        raise ChannelBroken("the container could not be verified clean")
    return server


async def _warm_container(config: SandboxConfig) -> containers.Container:
    """A new container with its program server started (if that fails, the first program
    starts one, as after any server loss, and fails closed the same way)."""
    container = await asyncio.to_thread(containers.create, config)
    try:
        await _start_server(container)
    except (ChannelBroken, APIError) as ex:
        logger.warning("sandbox container %s: program server not started yet: %s", container.id[:12], ex)
    return container


def _exec_result(result: dict[str, Any], limit: float) -> ExecResult[str]:
    """An ExecResult from the supervisor's (or server's) JSON; TimeoutError if it timed
    out (its wall-clock limit `limit`, or its CPU-time budget)."""
    if result.get("cpu_timed_out"):
        raise TimeoutError(
            f"Command exceeded its CPU-time limit ({result.get('cpu_seconds', 0):.1f} CPU seconds; process tree killed)"
        )
    if result["timed_out"]:
        raise TimeoutError(f"Command timed out after {limit:g} s wall clock (process tree killed)")
    stderr = result["stderr"]
    if result["oom_killed"]:
        stderr += "\nMemoryError: killed by the sandbox's memory limit\n"
    return ExecResult(
        success=result["returncode"] == 0,
        returncode=result["returncode"],
        stdout=result["stdout"],
        stderr=stderr,
    )


def _not_started(result: dict[str, Any], error: str) -> bool:
    """Whether the supervisor could not start the command, failing with `error` (jail.failure)."""
    return result["returncode"] == 127 and result.get("duration") == 0.0 and result["stderr"].startswith(f"{error}: ")


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
    """The OSError a local file operation would raise (errno, message and path in its text)."""
    message = err.decode(errors="replace").strip()
    for marker, error, number in (
        ("No such file", FileNotFoundError, errno.ENOENT),
        ("Is a directory", IsADirectoryError, errno.EISDIR),
        ("Not a directory", NotADirectoryError, errno.ENOTDIR),
        ("Permission denied", PermissionError, errno.EACCES),
        ("Read-only", PermissionError, errno.EROFS),
        ("No space left", OSError, errno.ENOSPC),
    ):
        if marker in message:
            raise error(number, os.strerror(number), path)
    raise RuntimeError(f"{path}: {message}")
