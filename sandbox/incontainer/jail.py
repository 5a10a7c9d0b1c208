"""Isolation primitives shared by the in-container supervisor and program server.

Sent to the container as source (see payload.py) and run as root, so standard
library only, importing nothing from fof_inspect. Root is needed only to drop to the
sandbox user and to keep a killer process the untrusted code cannot signal.

What every sandboxed run gets from here:
- a killer, forked as root before the untrusted code starts (so a fork bomb that
  exhausts the pids limit cannot stop the clean-up, and the code cannot signal it),
  that becomes the sandbox user and SIGKILLs all of that user's processes with
  ``kill(-1)`` (atomic against forks: background children, daemons and fork bombs
  die too), then removes whatever could carry state to the next run: the user's
  files in /tmp, /dev/shm and /dev/mqueue and its SysV IPC objects;
- `supervise`: a wall-clock deadline, output read through pipes only the sandbox
  user's processes hold (so they reach EOF once those are dead), of which only a head
  and a tail are kept, and the killer fired as soon as the program ends or times out.
"""

import os
import resource
import select
import shutil
import signal
import time

SCRATCH = "/tmp/run"
"""A fixed path keeps tracebacks identical run to run (and cacheable)."""
SCRATCH_ROOTS = ("/tmp", "/dev/shm", "/dev/mqueue")
SYSV_IPC = ("shm", "sem", "msg")
IPC_RMID = 0
OOM_FILES = ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events")
DRAIN_SECONDS = 2.0
MAX_FD = 1 << 20
BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": SCRATCH,
    "TMPDIR": SCRATCH,
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
}


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
    """Whether any process whose real uid is `uid`, other than the caller, is alive.

    Reads /proc/<pid>/status rather than the owner of /proc/<pid>, which is root for a
    process that made itself non-dumpable."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open("/proc/%s/status" % entry) as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            real_uid = int(fields["Uid"].split()[0])
            state = fields["State"].split()[0]
        except (OSError, KeyError, IndexError, ValueError):
            continue
        if real_uid == uid and state not in ("Z", "X"):
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


def wipe_sysv_ipc(uid: int) -> None:
    """Remove the user's SysV IPC objects, which outlive their processes (as the user)."""
    owned = []
    for kind in SYSV_IPC:
        try:
            with open("/proc/sysvipc/" + kind) as f:
                header, *rows = [line.split() for line in f]
        except (OSError, ValueError):
            continue
        column = header.index("uid")
        owned += [(kind, int(row[1])) for row in rows if len(row) > column and int(row[column]) == uid]
    if not owned:
        return
    import ctypes  # only now: it costs the supervisor a few ms to import

    libc = ctypes.CDLL(None, use_errno=True)
    for kind, ident in owned:
        if kind == "sem":
            libc.semctl(ident, 0, IPC_RMID)
        else:
            getattr(libc, kind + "ctl")(ident, IPC_RMID, None)


def fork_retrying() -> int:
    """os.fork, waiting out a pids limit still full of a killed fork bomb's zombies
    (the container's init reaps them a moment later)."""
    for _ in range(2000):
        try:
            return os.fork()
        except BlockingIOError:
            time.sleep(0.001)
    return os.fork()


def keep_only_fds(*keep: int) -> None:
    """Close every descriptor above 2 except `keep` (a forked process must not hold
    the channel or another run's pipes, or their readers never see EOF)."""
    low = 3
    for fd in sorted(set(k for k in keep if k >= 3)):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, MAX_FD)


def drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


def kill_all(uid: int, gid: int) -> None:
    """Become the sandbox user, SIGKILL all its processes, wipe its scratch space."""
    drop_privileges(uid, gid)
    for _ in range(1000):
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            break
        if not live_processes(uid):
            break  # only zombies left, for their parents to reap
        time.sleep(0.001)
    wipe_owned(uid)
    wipe_sysv_ipc(uid)


class Killer:
    """A root process, forked before the untrusted code starts, that runs `kill_all`
    when fired. With `act_on_eof`, it also does so if its owner dies first (the
    supervisor's choice); a server's killer instead just exits, since a new server
    cleans up itself and a late kill could hit the new server's program."""

    def __init__(self, uid: int, gid: int, act_on_eof: bool = True) -> None:
        go_read, self.go = os.pipe()
        self.done, done_write = os.pipe()
        self.pid = fork_retrying()
        if self.pid == 0:
            try:
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                keep_only_fds(go_read, done_write)
                if os.read(go_read, 1) or act_on_eof:
                    kill_all(uid, gid)
                os.write(done_write, b"x")
            finally:
                os._exit(0)
        os.close(go_read)
        os.close(done_write)

    def fire(self) -> None:
        """Start killing and wiping; returns at once."""
        os.write(self.go, b"x")
        os.close(self.go)

    def finish(self) -> None:
        """Wait until the killing and wiping are done, and reap the killer."""
        os.read(self.done, 1)
        os.close(self.done)
        os.waitpid(self.pid, 0)


def clean_slate(uid: int, gid: int) -> None:
    """Kill and wipe whatever an earlier run left (its supervisor may have been killed)."""
    killer = Killer(uid, gid)
    killer.fire()
    killer.finish()


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


def enter_scratch(mem_bytes: int, cwd=None) -> None:
    """As the sandbox user: a fresh scratch directory, no core dumps, an address-space
    limit (a big allocation is a clean MemoryError)."""
    os.mkdir(SCRATCH, 0o700)
    os.chdir(cwd or SCRATCH)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if mem_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))


def failure(ex: BaseException) -> dict:
    """The result of a command that could not be started."""
    return {"returncode": 127, "timed_out": False, "oom_killed": False,
            "stdout": "", "stderr": "%s: %s\n" % (type(ex).__name__, ex),
            "stdout_bytes": 0, "stderr_bytes": 0, "duration": 0.0}


def supervise(child, out_fd: int, err_fd: int, timeout: float, cap: int, killer: Killer,
              oom_before: int, started: float) -> dict:
    """Collect a started command's output until it ends or its deadline passes, then
    fire the killer (nothing of it may live on) and describe what happened.

    Returns once the output pipes reach EOF, i.e. once every process that held them is
    dead: the result is final, though the killer may still be wiping; the caller must
    `killer.finish()` before anything else runs. `child` is Popen-like (`pid`, `poll()`,
    `wait()`); `out_fd`/`err_fd` are the read ends of its output pipes, closed here."""
    captures = {out_fd: Capture(cap), err_fd: Capture(cap)}
    poller = select.poll()
    for fd in captures:
        poller.register(fd, select.POLLIN)
    open_fds = set(captures)
    try:
        pidfd = os.pidfd_open(child.pid)
        poller.register(pidfd, select.POLLIN)
    except (AttributeError, OSError):  # old kernel or seccomp profile: poll for the exit
        pidfd = None
    deadline = started + timeout
    ended = timed_out = killed = False
    while True:
        now = time.monotonic()
        if not ended and (pidfd is None and child.poll() is not None):
            ended = True
        if not ended and now >= deadline:
            ended = timed_out = True
        if ended and not killed:
            killer.fire()
            killed = True
            deadline = now + DRAIN_SECONDS
        if killed and (not open_fds or now >= deadline):
            break
        wait = max(deadline - now, 0.0)
        if pidfd is None and not ended:
            wait = min(wait, 0.01)
        for fd, _ in poller.poll(wait * 1000 + 1):
            if fd == pidfd:
                ended = True
                poller.unregister(pidfd)
                continue
            chunk = os.read(fd, 65536)
            if chunk:
                captures[fd].add(chunk)
            else:
                poller.unregister(fd)
                open_fds.discard(fd)
    if pidfd is not None:
        os.close(pidfd)
    for fd in captures:
        os.close(fd)
    returncode = child.wait()
    out, err = captures[out_fd], captures[err_fd]
    return {
        "returncode": returncode,
        "timed_out": timed_out,
        "oom_killed": oom_kills() > oom_before,
        "stdout": out.text(),
        "stderr": err.text(),
        "stdout_bytes": out.total,
        "stderr_bytes": err.total,
        "duration": round(time.monotonic() - started, 4),
    }

