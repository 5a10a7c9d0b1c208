"""Containers fail closed: after every program its clean-up is verified (no process of the
sandbox users left, the scratch areas empty, no IPC object in the container), or the container
is replaced; a program cannot make the clean-up raise, outlive it, disturb a later program, or
read an earlier program's request. Each attack is followed by honest programs, in the same
container and, through a whole eval, in another task."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ModelOutput
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.util import SandboxEnvironmentSpec, sandbox

from support.sandbox import sandbox_containers
from fof_inspect.sandbox.config import SandboxConfig
from fof_inspect.sandbox.engine import exec_with_input
from fof_inspect.sandbox.provider import FofDockerSandbox
from fof_inspect.scorers.pass_at_1 import pass_at_1
from support.fast_path import PASSING, passes, run_fast
from support.sandbox import in_sandbox

pytestmark = [pytest.mark.usefixtures("docker_sandbox"), pytest.mark.docker]

STATE = (
    "import os\n"
    "rows = [len(open('/proc/sysvipc/' + k).readlines()) - 1 for k in ('shm', 'sem', 'msg')]\n"
    "mine = [p for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()"
    " and set(open(f'/proc/{p}/status').read().split('Uid:')[1].split('\\n')[0].split()) & {'65534', '65533'}]\n"
    "os.mkdir('fresh')\n"
    "print(sorted(os.listdir('/tmp')), os.listdir('/dev/shm'), os.listdir('/dev/mqueue'), rows, mine)"
)
CLEAN_STATE = "['run'] [] [] [0, 0, 0] []\n"
"""What a program sees of what earlier programs left: its own scratch directory, nothing else."""

LIBC = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
IPC_TO_ROOT = LIBC + (
    "IPC_SET, IPC_STAT = 1, 2\n"
    "def to_root(ctl, ident, *sem):\n"
    "    buf = ctypes.create_string_buffer(512)\n"
    "    assert ctl(ident, *sem, IPC_STAT, buf) == 0\n"
    "    buf[4:8] = (0).to_bytes(4, 'little')  # ipc_perm.uid: hand it to root\n"
    "    assert ctl(ident, *sem, IPC_SET, buf) == 0, ctypes.get_errno()\n"
    "shm = libc.shmget(4343, 40 * 1024**2, 0o1000 | 0o600)\n"
    "addr = libc.shmat(shm, None, 0)\nlibc.shmat.restype = ctypes.c_void_p\n"
    "to_root(libc.shmctl, shm)\n"
    "to_root(libc.semctl, libc.semget(4343, 1, 0o1000 | 0o600), 0)\n"
    "to_root(libc.msgctl, libc.msgget(4343, 0o1000 | 0o600))\n"
    "print([line.split()[7] for line in open('/proc/sysvipc/shm').readlines()[1:]])"
)
ATTACKS = {
    "a 1,200-deep directory tree": "import os\nfor _ in range(1200):\n    os.mkdir('d')\n    os.chdir('d')\nprint('deep')",
    "mode-000 directories": (
        "import os\nos.makedirs('/tmp/a/b/c')\nopen('/tmp/a/b/c/f', 'w').write('x')\n"
        "for p in ('/tmp/a/b/c', '/tmp/a/b', '/tmp/a', '.'):\n    os.chmod(p, 0)\n"
        "os.mkdir('/dev/shm/z')\nopen('/dev/shm/z/f', 'w').write('x')\nos.chmod('/dev/shm/z', 0)\nprint('locked')"
    ),
    "SysV objects handed to root with IPC_SET": IPC_TO_ROOT,
    "a POSIX message queue and semaphore": (
        "import os\nos.close(os.open('/dev/mqueue/q', os.O_CREAT | os.O_RDWR, 0))\n"
        "open('/dev/shm/sem.left', 'w').write('x')\nos.chmod('/dev/shm/sem.left', 0)\nprint('queued')"
    ),
    "setsid daemons in other sessions": (
        "import os, subprocess, time\nsubprocess.Popen(['sleep', '600'], start_new_session=True)\n"
        "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        os.setsid()\n        time.sleep(600)\n"
        "    os._exit(0)\nprint('daemons')"
    ),
    "a fork bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
    "a survivor looping kill(-1, SIGKILL)": (
        "import os, signal\nprint('survivor', flush=True)\nif os.fork() == 0:\n    os.setsid()\n    while True:\n"
        "        try:\n            os.kill(-1, signal.SIGKILL)\n        except OSError:\n            pass"
    ),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_an_attack_is_cleaned_up_verified_and_the_next_programs_are_graded_right(attack: str) -> None:
    async def body(box: FofDockerSandbox) -> None:
        try:
            await run_fast(box, ATTACKS[attack], timeout=2)
        except TimeoutError:
            pass  # the fork bomb, contained
        assert box.container.clean
        for _ in range(3):
            r = await run_fast(box, PASSING)
            assert passes(r.stdout, r.stderr, r.returncode), r
        assert (await run_fast(box, STATE)).stdout == CLEAN_STATE

    in_sandbox(body)


def test_a_survivor_looping_kill_cannot_fail_later_programs() -> None:
    survivor = ATTACKS["a survivor looping kill(-1, SIGKILL)"]
    slow_pass = f"import time\nfor _ in range(20):\n    time.sleep(0.005)\n{PASSING}"

    async def body(box: FofDockerSandbox) -> None:
        for _ in range(10):
            assert (await run_fast(box, survivor)).stdout == "survivor\n"
            r = await run_fast(box, slow_pass)
            assert passes(r.stdout, r.stderr, r.returncode), r
        assert (await run_fast(box, STATE)).stdout == CLEAN_STATE

    in_sandbox(body)


def test_what_the_clean_up_cannot_remove_gets_the_container_replaced() -> None:
    async def body(box: FofDockerSandbox) -> None:
        await run_fast(box, "pass")
        first = box.container.id
        # a directory the killer cannot open, of a uid it does not know: planted behind the provider's back
        code, _, err = await asyncio.to_thread(
            exec_with_input, first, ["sh", "-c", "mkdir -p /tmp/x/y && chmod 0 /tmp/x"], b"", user="12345"
        )
        assert code == 0, err
        r = await run_fast(box, PASSING)
        assert passes(r.stdout, r.stderr, r.returncode)  # the program keeps its own verdict
        assert box.container.id != first and first not in sandbox_containers()
        assert (await run_fast(box, STATE)).stdout == CLEAN_STATE
        r = await run_fast(box, PASSING)
        assert passes(r.stdout, r.stderr, r.returncode)

    in_sandbox(body)


MEMORY_SCAN = (
    "import os, re\n"
    "found = set()\n"
    "pattern = re.compile(rb'fofsecret[0-9a-f]{32}')\n"
    "for line in open('/proc/self/maps'):\n"
    "    span, perms = line.split()[:2]\n"
    "    if not perms.startswith('r') or '[vvar]' in line:\n        continue\n"
    "    start, end = (int(x, 16) for x in span.split('-'))\n"
    "    with open('/proc/self/mem', 'rb', buffering=0) as mem:\n"
    "        mem.seek(start)\n"
    "        try:\n            data = mem.read(end - start)\n        except OSError:\n            continue\n"
    "    found.update(m.decode() for m in pattern.findall(data))\n"
    "try:\n    open(f'/proc/{os.getppid()}/mem', 'rb').read(1)\n    print('read the parent')\n"
    "except OSError as ex:\n    print(type(ex).__name__)\n"
    "print(sorted(found))\n"
)


def test_a_program_cannot_read_an_earlier_programs_request_from_memory() -> None:
    earlier, own = secrets.token_hex(16), secrets.token_hex(16)

    async def body(box: FofDockerSandbox) -> None:
        padding = "#" * 3000  # a request of this size stays in the freed heap of a server that forks programs
        r = await run_fast(box, f"{padding}\nHIDDEN_TESTS = 'fofsecret{earlier}'\nassert HIDDEN_TESTS\n{padding}")
        assert r.success
        r = await run_fast(box, f"MINE = 'fofsecret{own}'\n" + MEMORY_SCAN)
        lines = r.stdout.splitlines()
        assert lines[0] == "PermissionError", r
        assert f"fofsecret{own}" in lines[1]  # the scan works: it finds the program's own text
        assert earlier not in r.stdout

    in_sandbox(body)


# ---- through an eval: two tasks share the pooled containers -------------------------


@solver
def answer_from_metadata() -> Solver:
    """Answers with the sample's `answer` metadata and notes the container it ran in."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.output = ModelOutput.from_content(model="script", content=f"```python\n{state.metadata['answer']}\n```")
        return state

    return solve


@solver
def note_container() -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.metadata["container"] = sandbox().as_type(FofDockerSandbox).container.id
        return state

    return solve


HONEST = "def f():\n    return 1"


def grading_task(name: str, answers: list[tuple[str, str]]) -> Task:
    samples = [
        Sample(id=sample_id, input="f", metadata={"prefix": "", "tests": "assert f() == 1", "entry_point": "f", "answer": code})
        for sample_id, code in answers
    ]
    return Task(
        name=name,
        dataset=MemoryDataset(samples),
        solver=[answer_from_metadata(), note_container()],
        scorer=pass_at_1(),
        sandbox=SandboxEnvironmentSpec("fof_docker", SandboxConfig(timeout=3)),
    )


def test_after_every_attack_the_next_honest_programs_pass_in_the_same_eval(tmp_path: Path) -> None:
    attacks = [(f"attack-{i}", code) for i, code in enumerate(ATTACKS.values())]
    first = grading_task("attacks", [x for i, a in enumerate(attacks) for x in (a, (f"honest-{i}", HONEST))])
    second = grading_task("honest", [(f"later-{i}", HONEST) for i in range(4)])
    logs = eval([first, second], model="mockllm/model", log_dir=str(tmp_path), display="none",
                max_sandboxes=1, max_samples=1, max_tasks=1)
    assert [log.status for log in logs] == ["success", "success"], [log.error for log in logs]
    verdicts = {s.id: s.scores["pass_at_1"].value for log in logs for s in log.samples or []}
    assert {k: v for k, v in verdicts.items() if not str(k).startswith("attack")} == {
        **{f"honest-{i}": "C" for i in range(len(attacks))}, **{f"later-{i}": "C" for i in range(4)}
    }
    assert all(verdicts[name] == "I" for name, _ in attacks)
    containers = {s.metadata["container"] for log in logs for s in log.samples or []}
    assert len(containers) == 1  # every clean-up was verified: one container served both tasks
    assert sandbox_containers() == []
