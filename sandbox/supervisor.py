"""Runs one command inside the sandbox container with hard limits, then leaves no trace.

This file's source is sent to the container and run as root with ``python3 -I -c``
for every exec, so it must stay standard-library only and import nothing from
fof_inspect. Root is needed only to drop to the sandbox user and to keep a killer
process the untrusted code cannot signal.

Per execution:
- the command runs as the unprivileged sandbox user, in its own session, in a fresh
  scratch directory under /tmp, with an address-space limit (a big allocation is a
  clean ``MemoryError``) and no core dumps;
- a wall-clock deadline; at the deadline, and whenever the command ends, every process
  of the sandbox user is SIGKILLed with ``kill(-1)`` (atomic against forks, so background
  children, daemons and fork bombs die too) and /tmp and /dev/shm are wiped;
- stdout/stderr are read through pipes that only the sandbox user's processes hold, so
  they reach EOF once those are dead; only a head and a tail of each is kept.

Prints one JSON object on stdout: returncode, timed_out, oom_killed, stdout, stderr,
stdout_bytes, stderr_bytes, duration.
"""

import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import time

SCRATCH_ROOTS = ("/tmp", "/dev/shm")
OOM_FILES = ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events")
DRAIN_SECONDS = 2.0


def oom_kills() -> int:
    """The container cgroup's OOM-kill counter (cgroup v1 or v2), 0 if unreadable."""
    for path in OOM_FILES:
        try:
            with open(path) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except OSError:
            continue
    return 0


def live_processes(uid: int) -> bool:
    """Whether any process of `uid` other than the caller is alive (not a zombie)."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            if os.stat("/proc/" + entry).st_uid != uid:
                continue
            with open("/proc/%s/stat" % entry) as f:
                state = f.read().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            return True
    return False


def wipe_owned(uid: int) -> None:
    """Remove everything the sandbox user left in the writable scratch areas."""
    for root in SCRATCH_ROOTS:
        try:
            entries = os.listdir(root)
        except OSError:
            continue
        for name in entries:
            path = os.path.join(root, name)
            try:
                if os.lstat(path).st_uid != uid:
                    continue
                if os.path.isdir(path) and not os.path.islink(path):
                    for dirpath, dirnames, _ in os.walk(path):
                        for d in dirnames:  # a program may have chmod 000'd its dirs
                            try:
                                os.chmod(os.path.join(dirpath, d), 0o700)
                            except OSError:
                                pass
                    os.chmod(path, 0o700)
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
            except OSError:
                pass


def spawn_killer(uid: int, gid: int) -> tuple[int, int]:
    """Fork, as root, a process that waits for a byte, then becomes the sandbox user,
    kills all of that user's processes and wipes scratch space.

    Forked before the untrusted command starts, so a fork bomb that exhausts the
    pids limit cannot stop the clean-up, and the command cannot kill it (it is root
    until it is told to act).
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(write_fd)
            os.read(read_fd, 1)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            for attempt in range(1000):
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    break
                if not live_processes(uid):
                    break  # only zombies left, for their parents to reap
                time.sleep(0.001)
            wipe_owned(uid)
        finally:
            os._exit(0)
    os.close(read_fd)
    return pid, write_fd


def fire_killer(killer: tuple[int, int]) -> None:
    pid, write_fd = killer
    os.write(write_fd, b"x")
    os.close(write_fd)
    os.waitpid(pid, 0)


class Capture:
    """Keeps the first and last `cap // 2` bytes of a stream and counts the rest."""

    def __init__(self, cap: int) -> None:
        self.half = max(cap // 2, 1)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > 2 * self.half:
                del self.tail[: len(self.tail) - self.half]

    def text(self) -> str:
        tail = self.tail[-self.half :]
        dropped = self.total - len(self.head) - len(tail)
        marker = b"\n[... %d bytes of output dropped ...]\n" % dropped if dropped else b""
        return bytes(self.head + marker + tail).decode("utf-8", errors="replace")


def make_child_setup(mem_bytes: int, scratch: str, cwd: str | None):
    def setup() -> None:
        # runs after the switch to the sandbox user, before exec
        os.mkdir(scratch, 0o700)
        os.chdir(cwd or scratch)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if mem_bytes > 0:
            resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))

    return setup


def main() -> None:
    spec = json.loads(sys.argv[1])
    uid, gid = int(spec["uid"]), int(spec["gid"])
    data = sys.stdin.buffer.read()

    # start from a clean slate even if an earlier supervisor was itself killed
    fire_killer(spawn_killer(uid, gid))
    killer = spawn_killer(uid, gid)

    stdin_fd = os.memfd_create("stdin")
    os.write(stdin_fd, data)
    os.lseek(stdin_fd, 0, os.SEEK_SET)

    scratch = "/tmp/run"  # a fixed path keeps tracebacks identical run to run (and cacheable)
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": scratch,
        "TMPDIR": scratch,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(spec.get("env") or {})
    cap = int(spec["output_cap"])
    captures = {"stdout": Capture(cap), "stderr": Capture(cap)}
    oom_before = oom_kills()
    started = time.monotonic()
    deadline = started + float(spec["timeout"])
    try:
        child = subprocess.Popen(
            spec["cmd"],
            stdin=stdin_fd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            user=uid,
            group=gid,
            extra_groups=[],
            start_new_session=True,
            preexec_fn=make_child_setup(int(spec["mem_bytes"]), scratch, spec.get("cwd")),
        )
    except (OSError, subprocess.SubprocessError) as ex:
        fire_killer(killer)
        result = {"returncode": 127, "timed_out": False, "oom_killed": False,
                  "stdout": "", "stderr": "%s: %s\n" % (type(ex).__name__, ex),
                  "stdout_bytes": 0, "stderr_bytes": 0, "duration": 0.0}
        sys.stdout.write(json.dumps(result))
        return
    os.close(stdin_fd)

    streams = {child.stdout.fileno(): "stdout", child.stderr.fileno(): "stderr"}
    timed_out = False
    killed = False
    returncode = None
    while True:
        now = time.monotonic()
        if returncode is None:
            returncode = child.poll()
        if not killed and (returncode is not None or now >= deadline):
            # the command ended (or ran out of time): nothing of it may live on
            timed_out = returncode is None
            fire_killer(killer)
            killed = True
            deadline = now + DRAIN_SECONDS
        elif killed and (now >= deadline or not streams):
            break
        ready, _, _ = select.select(list(streams), [], [], 0.01)
        for fd in ready:
            chunk = os.read(fd, 65536)
            if chunk:
                captures[streams[fd]].add(chunk)
            else:
                del streams[fd]
    if not killed:
        fire_killer(killer)
    returncode = child.wait()
    duration = time.monotonic() - started
    result = {
        "returncode": returncode,
        "timed_out": timed_out,
        "oom_killed": oom_kills() > oom_before,
        "stdout": captures["stdout"].text(),
        "stderr": captures["stderr"].text(),
        "stdout_bytes": captures["stdout"].total,
        "stderr_bytes": captures["stderr"].total,
        "duration": round(duration, 4),
    }
    sys.stdout.write(json.dumps(result))


main()
