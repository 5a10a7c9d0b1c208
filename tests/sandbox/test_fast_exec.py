"""The fast path (fof_docker's `exec` of the grader's command, the warm program server) on a real engine:
it runs a program as `python3 -I solution.py` would, keeps every isolation property of
`exec`, and recovers when its server or container dies - without ever passing a
program that did not finish."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.event import SandboxEvent
from inspect_ai.model import ModelOutput
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.util import SandboxEnvironmentSpec

from fof_inspect.sandbox.config import SandboxConfig
from fof_inspect.sandbox import provider
from fof_inspect.sandbox.engine import engine, exec_with_input
from fof_inspect.sandbox.provider import FofDockerSandbox
from fof_inspect.grading.command import GRADE_COMMAND
from fof_inspect.scorers.pass_at_1 import pass_at_1
from support.legacy_grader import classify
from support.fast_path import NOBODY_PROCESSES, PASSING, SENTINEL, SLOW_COMMAND, passes, run_fast
from support.sandbox import in_sandbox, sandbox_containers

pytestmark = pytest.mark.usefixtures("docker_sandbox")

async def root_in(box: FofDockerSandbox, script: str) -> None:
    """Run a shell `script` as root in the box's container, behind the provider's back."""
    code, _, err = await asyncio.to_thread(exec_with_input, box.container.id, ["sh", "-c", script], b"", user="0")
    assert code == 0, err


# ---- it is `python3 -I solution.py` -------------------------------------------------

SAME_AS_EXEC = [
    "def f():\n    raise ValueError('bad')\n\nf()",  # the traceback shows the failing source line
    "def f(:\n    return 1",  # a SyntaxError looks like the script's, with no traceback header
    "try:\n    {}['a']\nexcept KeyError:\n    raise TypeError('chained')",
    "import sys\nprint(__name__, __file__, sys.argv, sys.stdin.read() == '')\nprint('e', file=sys.stderr)\nsys.exit(3)",
    "import sys\nsys.exit('message')",
    "def depth(n):\n    try:\n        return depth(n + 1)\n    except RecursionError:\n        return n\nprint(depth(0))",
    "import threading, time, atexit\natexit.register(print, 'at exit')\n"
    "threading.Thread(target=lambda: (time.sleep(0.2), print('thread'))).start()\nprint('main')",
    "import os, sys\nprint(os.getuid(), os.getcwd(), sorted(os.environ.items()), sys.flags, sys.path, sys.executable)",
    "import os\nprint(os.stat('/proc/self').st_uid, os.getsid(0) == os.getpid(), sorted(os.listdir('/proc/self/fd')))",
    "print('written but not flushed', end='')\nimport os\nos._exit(4)",
]


def test_programs_run_exactly_as_with_exec() -> None:
    async def body(box: FofDockerSandbox) -> None:
        for program in SAME_AS_EXEC:
            fast = await run_fast(box, program)
            slow = await box.exec(SLOW_COMMAND, input=program)
            assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr), program
        r = await run_fast(box, SAME_AS_EXEC[0])
        assert 'File "/tmp/run/solution.py", line 2, in f\n    raise ValueError(\'bad\')' in r.stderr
        r = await run_fast(box, SAME_AS_EXEC[1])
        assert r.stderr.startswith('  File "/tmp/run/solution.py", line 1\n    def f(:\n') and "Traceback" not in r.stderr

    in_sandbox(body)


# ---- isolation ---------------------------------------------------------------------


def test_no_python_state_leaks_from_one_program_to_the_next() -> None:
    leave = (
        "import builtins, sys, os, math, json, random, typing\n"
        "LEFT = 1\nbuiltins.LEFT = 1\nmath.pi = 3\njson.LEFT = 1\ntyping.LEFT = 1\n"
        "sys.modules['left_behind'] = sys\nsys.path.append('/left')\nsys.setrecursionlimit(50)\n"
        "os.environ['LEFT'] = '1'\nrandom.seed(1)\nsys.stdout.write('x' * 100)\n"
        "open('/tmp/left', 'w').write('x')\nopen('/dev/shm/left', 'w').write('x')\nopen('here', 'w').write('x')\n"
        "print(random.random())"
    )
    check = (
        "import builtins, sys, os, math, json, typing, random\n"
        "print('LEFT' in globals(), hasattr(builtins, 'LEFT'), math.pi == 3, hasattr(json, 'LEFT'),"
        " hasattr(typing, 'LEFT'), 'left_behind' in sys.modules, '/left' in sys.path,"
        " sys.getrecursionlimit() < 1000, 'LEFT' in os.environ,"
        " sorted(os.listdir('/tmp')), os.listdir('/dev/shm'), os.listdir('.'))\n"
        "print(random.random())"
    )

    async def body(box: FofDockerSandbox) -> None:
        left = await run_fast(box, leave)
        assert left.success, left.stderr
        seeded = left.stdout.splitlines()[-1].removeprefix("x" * 100)
        r = await run_fast(box, check)
        flags, drawn = r.stdout.splitlines()
        assert flags == "False False False False False False False False False ['run'] [] ['solution.py']"
        assert drawn != seeded  # the random generator is not the seeded one either
        assert (await run_fast(box, check)).stdout.splitlines()[1] != drawn  # nor shared between programs

    in_sandbox(body)


IPC_LEAVE = (
    "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
    "print(libc.shmget(4242, 4096, 0o1600) >= 0, libc.semget(4242, 1, 0o1600) >= 0, libc.msgget(4242, 0o1600) >= 0)\n"
    "os.close(os.open('/dev/mqueue/left', os.O_CREAT | os.O_RDWR, 0o600))"
)
IPC_CHECK = (
    "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
    "print(libc.shmget(4242, 0, 0), libc.semget(4242, 0, 0), libc.msgget(4242, 0), os.listdir('/dev/mqueue'))"
)


@pytest.mark.parametrize("path", ["fast", "exec"])
def test_no_ipc_objects_outlive_a_program(path: str) -> None:
    async def body(box: FofDockerSandbox) -> None:
        async def run(program: str) -> str:
            if path == "exec":
                return (await box.exec(SLOW_COMMAND, input=program)).stdout
            return (await run_fast(box, program)).stdout

        assert await run(IPC_LEAVE) == "True True True\n"
        assert await run(IPC_CHECK) == "-1 -1 -1 []\n"

    in_sandbox(body)


def test_fork_bombs_and_background_daemons_die_with_the_program() -> None:
    daemons = (
        "import os, subprocess, time\n"
        "subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
        "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(600)\n    os._exit(0)\n"
        "print('started')"
    )
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"

    async def body(box: FofDockerSandbox) -> None:
        r = await run_fast(box, daemons)
        assert r.stdout == "started\n"
        assert (await run_fast(box, NOBODY_PROCESSES)).stdout == "[]\n"
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            await run_fast(box, bomb, timeout=2)  # spends little CPU per process: the wall-clock backstop ends it
        assert asyncio.get_running_loop().time() - started < 2 * box.config.wall_factor + 4
        assert (await run_fast(box, NOBODY_PROCESSES)).stdout == "[]\n"
        r = await run_fast(box, PASSING)
        assert passes(r.stdout, r.stderr, r.returncode)

    in_sandbox(body)


def test_limits_hold_on_the_fast_path() -> None:
    async def body(box: FofDockerSandbox) -> None:
        r = await run_fast(box, "x = bytearray(2 * 1024**3)")
        assert "MemoryError" in r.stderr and not r.success
        r = await run_fast(box, "f = open('/tmp/big', 'wb')\nfor _ in range(1024): f.write(b'x' * 1024**2)")
        assert "No space left on device" in r.stderr
        r = await run_fast(box, "import sys\nsys.stdout.write('A' * 100 * 1024**2)\nprint('END')")
        assert r.success and r.stdout.startswith("AAAA") and r.stdout.endswith("END\n")
        assert len(r.stdout) < 2 * box.config.output_cap
        r = await run_fast(box, "import socket\nprint(socket.if_nameindex())\nsocket.getaddrinfo('example.com', 80)")
        assert r.stdout.startswith("[(1, 'lo')]") and "gaierror" in r.stderr
        r = await run_fast(box, PASSING)
        assert passes(r.stdout, r.stderr, r.returncode)

    in_sandbox(body)


def test_a_program_cannot_kill_or_tamper_with_the_server() -> None:
    attack = (
        "import os, signal\n"
        "os.kill(-1, signal.SIGKILL)\n"
        "for p in os.listdir('/proc'):\n"
        "    if p.isdigit() and int(p) != os.getpid():\n"
        "        try:\n            os.kill(int(p), signal.SIGKILL)\n        except OSError:\n            pass\n"
        "try:\n    open(f'/proc/{os.getppid()}/mem', 'rb')\nexcept OSError as ex:\n    print(type(ex).__name__)\n"
        "print('alive')"
    )

    async def body(box: FofDockerSandbox) -> None:
        await run_fast(box, "pass")
        server = box.container.server
        r = await run_fast(box, attack)
        assert r.stdout == "PermissionError\nalive\n"
        r = await run_fast(box, PASSING)
        assert passes(r.stdout, r.stderr, r.returncode)
        assert box.container.server is server and not server.broken

    in_sandbox(body)


def test_the_oom_killer_takes_a_program_not_the_server() -> None:
    hog = "import os, time\nos.fork()\nx = bytearray(400 * 1024**2)\ntime.sleep(1)"  # 2 x 400 MB > 512 MB

    async def body(box: FofDockerSandbox) -> None:
        await run_fast(box, "pass")
        pid = box.container.server.hello["pid"]
        r = await run_fast(box, hog)
        assert "MemoryError: killed by the sandbox's memory limit" in r.stderr
        r = await run_fast(box, PASSING)
        assert passes(r.stdout, r.stderr, r.returncode)
        assert box.container.server.hello["pid"] == pid

    in_sandbox(body)


# ---- recovery ----------------------------------------------------------------------


def test_a_server_killed_under_a_program_fails_it_and_the_next_program_is_graded() -> None:
    would_pass = f"import time\nprint({SENTINEL!r}, flush=True)\ntime.sleep(3)"

    async def body(box: FofDockerSandbox) -> None:
        await run_fast(box, "pass")
        pid = box.container.server.hello["pid"]
        running = asyncio.ensure_future(run_fast(box, would_pass))
        await asyncio.sleep(1)
        await root_in(box, f"kill -9 {pid}")
        r = await running
        assert classify(r.returncode, r.stdout, r.stderr, SENTINEL) == "Killed" and not r.success
        r = await run_fast(box, PASSING)
        assert passes(r.stdout, r.stderr, r.returncode)
        assert box.container.server.hello["pid"] != pid
        assert (await run_fast(box, NOBODY_PROCESSES)).stdout == "[]\n"  # the orphaned program is gone

    in_sandbox(body)


def test_a_server_that_died_while_idle_is_restarted_without_failing_a_program() -> None:
    async def body(box: FofDockerSandbox) -> None:
        await run_fast(box, "pass")
        pid = box.container.server.hello["pid"]
        await root_in(box, f"kill -9 {pid}")
        await asyncio.sleep(1)
        r = await run_fast(box, PASSING)
        assert passes(r.stdout, r.stderr, r.returncode)
        assert box.container.server.hello["pid"] != pid

    in_sandbox(body)


def test_a_stuck_server_is_given_up_and_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provider, "SLACK_SECONDS", 1.0)

    async def body(box: FofDockerSandbox) -> None:
        await run_fast(box, "pass")
        pid = box.container.server.hello["pid"]
        await root_in(box, f"kill -STOP {pid}")
        r = await run_fast(box, PASSING, timeout=1)
        assert classify(r.returncode, r.stdout, r.stderr, SENTINEL) == "Killed"
        r = await run_fast(box, PASSING)
        assert passes(r.stdout, r.stderr, r.returncode)
        assert box.container.server.hello["pid"] != pid

    in_sandbox(body)


def test_a_cancelled_program_cannot_disturb_the_next_one() -> None:
    async def body(box: FofDockerSandbox) -> None:
        # the abandoned server would fire its killer after 2 s, killing whatever runs then
        abandoned = asyncio.ensure_future(run_fast(box, "import time\ntime.sleep(2)"))
        await asyncio.sleep(0.5)
        abandoned.cancel()
        with pytest.raises(asyncio.CancelledError):
            await abandoned
        r = await run_fast(box, f"import time\ntime.sleep(3)\nprint({SENTINEL!r})", timeout=6)
        assert passes(r.stdout, r.stderr, r.returncode), r

    in_sandbox(body)


def test_a_dead_container_is_replaced() -> None:
    async def body(box: FofDockerSandbox) -> None:
        await run_fast(box, "pass")  # the server is up: the container dies under a program, not under its start
        first = box.container.id
        running = asyncio.ensure_future(run_fast(box, f"import time\nprint({SENTINEL!r})\ntime.sleep(5)"))
        await asyncio.sleep(1)
        await asyncio.to_thread(engine().api.kill, first)
        r = await running
        assert not passes(r.stdout, r.stderr, r.returncode)
        r = await run_fast(box, PASSING)
        assert passes(r.stdout, r.stderr, r.returncode)
        assert box.container.id != first
        assert first not in sandbox_containers()

    in_sandbox(body)
    assert sandbox_containers() == []


# ---- the grader's runs are execs: Inspect logs them on every sandbox -------------------


@solver
def answer(code: str) -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.output = ModelOutput.from_content(model="script", content=f"```python\n{code}\n```")
        return state

    return solve


@pytest.mark.parametrize("sandbox", ["fof_docker", "local"])
def test_the_graders_run_is_logged_as_an_exec_on_every_sandbox(sandbox: str, tmp_path: Path) -> None:
    spec = SandboxEnvironmentSpec(sandbox, SandboxConfig(timeout=3) if sandbox == "fof_docker" else None)
    task = Task(
        dataset=MemoryDataset([Sample(input="f", metadata={"prefix": "", "tests": "assert f() == 1", "entry_point": "f"})]),
        solver=answer("def f():\n    return 1"),
        scorer=pass_at_1(),
        sandbox=spec,
    )
    [log] = eval(task, model="mockllm/model", log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    [sample] = log.samples or []
    assert sample.scores["pass_at_1"].value == "C"
    [event] = [e for e in sample.events if isinstance(e, SandboxEvent) and "return 1" in (e.input or "")]
    assert event.cmd == " ".join(shlex.quote(part) for part in GRADE_COMMAND) and event.result == 0
