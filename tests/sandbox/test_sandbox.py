"""The fof_docker provider on a real engine: isolation, limits, clean-up between programs."""

from __future__ import annotations

import asyncio

import pytest
from inspect_ai.util import ExecResult

from fof_inspect.sandbox import engine as engine_module
from fof_inspect.sandbox.config import SandboxConfig
from fof_inspect.sandbox.containers import LABEL, SandboxImageMissingError
from fof_inspect.sandbox.engine import DockerNotRunningError
from fof_inspect.sandbox.provider import FofDockerSandbox
from support.sandbox import in_sandbox, sandbox_containers

pytestmark = pytest.mark.usefixtures("docker_sandbox")

CONFIG = SandboxConfig(timeout=3)


async def py(box: FofDockerSandbox, code: str, timeout: int | None = None) -> ExecResult[str]:
    return await box.exec(["python3", "-"], input=code, timeout=timeout, timeout_retry=False)


def test_runs_as_nobody_without_network_on_a_read_only_root() -> None:
    async def body(box: FofDockerSandbox) -> None:
        r = await py(box, "import os, socket\nprint(os.getuid(), socket.if_nameindex())\nopen('/etc/x', 'w')")
        assert r.stdout.startswith("65534 [(1, 'lo')]")
        assert "Read-only file system" in r.stderr
        r = await py(box, "import socket\nsocket.getaddrinfo('example.com', 80)")
        assert not r.success and "gaierror" in r.stderr

    in_sandbox(body)


def test_timeout_kills_the_whole_process_tree() -> None:
    async def body(box: FofDockerSandbox) -> None:
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            await py(box, "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\nwhile True: pass", timeout=2)
        assert asyncio.get_running_loop().time() - started < 6
        r = await py(box, "import os\nprint(sorted(open(f'/proc/{p}/cmdline').read() for p in os.listdir('/proc') if p.isdigit() and os.stat(f'/proc/{p}').st_uid == 65534 and int(p) != os.getpid()))")
        assert r.stdout.strip() == "[]"

    in_sandbox(body)


def test_background_children_die_with_the_program() -> None:
    async def body(box: FofDockerSandbox) -> None:
        r = await py(box, "import subprocess\nsubprocess.Popen(['sleep', '600'], start_new_session=True)\nprint('started')")
        assert r.stdout == "started\n"
        r = await py(box, "import os\nprint([p for p in os.listdir('/proc') if p.isdigit() and open(f'/proc/{p}/cmdline').read() == 'sleep\\x00600\\x00'])")
        assert r.stdout.strip() == "[]"

    in_sandbox(body)


def test_no_state_leaks_from_one_program_to_the_next() -> None:
    async def body(box: FofDockerSandbox) -> None:
        await py(box, "open('/tmp/leak', 'w').write('x')\nopen('/dev/shm/leak', 'w').write('x')\nopen('here', 'w').write('x')")
        r = await py(box, "import os\nprint(os.listdir('/tmp'), os.listdir('/dev/shm'), os.listdir('.'))")
        assert "leak" not in r.stdout and "here" not in r.stdout

    in_sandbox(body)


def test_memory_disk_pids_and_output_limits_hold_and_the_sandbox_stays_usable() -> None:
    async def body(box: FofDockerSandbox) -> None:
        r = await py(box, "x = bytearray(2 * 1024**3)")
        assert "MemoryError" in r.stderr
        r = await py(box, "f = open('/tmp/big', 'wb')\nfor _ in range(1024): f.write(b'x' * 1024**2)")
        assert "No space left on device" in r.stderr
        with pytest.raises(TimeoutError):
            await py(box, "import os\nwhile True:\n    try: os.fork()\n    except OSError: pass", timeout=2)
        r = await py(box, "import sys\nsys.stdout.write('A' * 100 * 1024**2)\nprint('END')")
        assert r.success and r.stdout.startswith("AAAA") and r.stdout.endswith("END\n")
        assert len(r.stdout) < 2 * CONFIG.output_cap
        r = await py(box, "print('still usable')")
        assert r.stdout == "still usable\n"

    in_sandbox(body)


def test_a_program_cannot_kill_the_supervisor() -> None:
    async def body(box: FofDockerSandbox) -> None:
        r = await py(box, "import os, signal\nos.kill(-1, signal.SIGKILL)\nfor p in os.listdir('/proc'):\n    if p.isdigit() and int(p) != os.getpid():\n        try: os.kill(int(p), 9)\n        except OSError: pass\nprint('alive')")
        assert r.stdout == "alive\n"
        assert (await py(box, "print('next')")).stdout == "next\n"

    in_sandbox(body)


def test_files_round_trip_through_the_workspace() -> None:
    async def body(box: FofDockerSandbox) -> None:
        await box.write_file("data/input.txt", "hello")
        assert await box.read_file("/workspace/data/input.txt") == "hello"
        r = await box.exec(["cat", "/workspace/data/input.txt"])
        assert r.stdout == "hello"
        with pytest.raises(FileNotFoundError):
            await box.read_file("missing.txt")

    in_sandbox(body)


def test_the_next_sample_in_a_reused_container_sees_no_file_of_the_last_one() -> None:
    async def run() -> None:
        await FofDockerSandbox.task_init("test", CONFIG)
        try:
            for _ in range(2):
                envs = await FofDockerSandbox.sample_init("test", CONFIG, {})
                box = envs["default"].as_type(FofDockerSandbox)
                assert (await box.exec(["ls", "-A", "/workspace"])).stdout == ""
                await box.write_file("left.txt", "from the last sample")
                r = await py(box, "open('/workspace/mine.txt', 'w')")  # a program cannot write there
                assert not r.success and "Permission denied" in r.stderr
                await FofDockerSandbox.sample_cleanup("test", CONFIG, envs, False)
            assert len(FofDockerSandbox._idle[CONFIG]) == 1  # the same container, reset, both times
        finally:
            await FofDockerSandbox.task_cleanup("test", CONFIG, True)

    asyncio.run(run())


def test_task_init_starts_the_first_samples_containers_and_task_cleanup_removes_unused_ones() -> None:
    config = SandboxConfig(timeout=3, prestart=2)

    async def run() -> None:
        await FofDockerSandbox.task_init("test", config)
        try:
            starting = list(FofDockerSandbox._starting[config])
            assert len(starting) == 2
            envs = await FofDockerSandbox.sample_init("test", config, {})
            box = envs["default"].as_type(FofDockerSandbox)
            assert any(f.done() and f.result() is box.container for f in starting)
            assert box.container.server is not None and box.container.server.alive()  # warm already
            assert (await py(box, "print('ok')")).stdout == "ok\n"
            await FofDockerSandbox.sample_cleanup("test", config, envs, False)
            mine = {f.result().id for f in starting}
        finally:
            await FofDockerSandbox.task_cleanup("test", config, True)
        listed = {c["Id"] for c in engine_module.engine().api.containers(all=True, filters={"label": LABEL})}
        assert not mine & listed  # the used one and the never-used one are both gone

    asyncio.run(run())


def test_containers_in_use_never_exceed_the_cap_and_waiting_samples_get_one_given_back() -> None:
    config = SandboxConfig(timeout=3, max_containers=2)
    assert FofDockerSandbox.default_concurrency() is None  # no Inspect cap: no random sleep per sample
    in_use: set[str] = set()
    most = 0

    async def sample(i: int) -> str:
        nonlocal most
        envs = await FofDockerSandbox.sample_init("test", config, {})
        box = envs["default"].as_type(FofDockerSandbox)
        try:
            assert box.container.id not in in_use  # never two samples in one container
            in_use.add(box.container.id)
            most = max(most, len(in_use))
            out = (await py(box, f"print({i})")).stdout
            await asyncio.sleep(0.05)
        finally:
            in_use.discard(box.container.id)
            await FofDockerSandbox.sample_cleanup("test", config, envs, False)
        return out

    async def run() -> None:
        await FofDockerSandbox.task_init("test", config)
        try:
            outs = await asyncio.gather(*(sample(i) for i in range(6)))
        finally:
            await FofDockerSandbox.task_cleanup("test", config, True)
        assert outs == [f"{i}\n" for i in range(6)]

    asyncio.run(run())
    assert most == 2
    assert not sandbox_containers()


def test_a_sample_cancelled_while_waiting_for_a_container_holds_no_slot() -> None:
    config = SandboxConfig(timeout=3, max_containers=1)

    async def run() -> None:
        await FofDockerSandbox.task_init("test", config)
        try:
            first = await FofDockerSandbox.sample_init("test", config, {})
            waiting = asyncio.ensure_future(FofDockerSandbox.sample_init("test", config, {}))
            await asyncio.sleep(0.2)
            assert not waiting.done()  # the one container is in use
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            await FofDockerSandbox.sample_cleanup("test", config, first, False)
            again = await asyncio.wait_for(FofDockerSandbox.sample_init("test", config, {}), 30)
            await FofDockerSandbox.sample_cleanup("test", config, again, False)
        finally:
            await FofDockerSandbox.task_cleanup("test", config, True)

    asyncio.run(run())


def test_docker_not_running_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    engine_module._cached_engine.cache_clear()
    try:
        with pytest.raises(DockerNotRunningError, match="Docker is not running.*dockerd"):
            asyncio.run(FofDockerSandbox.task_init("test", CONFIG))
    finally:
        monkeypatch.delenv("DOCKER_HOST")
        engine_module._cached_engine.cache_clear()


def test_missing_image_says_how_to_build_it() -> None:
    with pytest.raises(SandboxImageMissingError, match="fof sandbox build"):
        asyncio.run(FofDockerSandbox.task_init("test", SandboxConfig(image="fof-no-such-image:0")))
