"""Isolation primitives shared by the in-container supervisor and program server.

Sent to the container as source (see payload.py) and run as root, so standard
library only, importing nothing from fof_inspect. Root is needed only to drop to the
sandbox users and to keep a killer process the untrusted code cannot signal.

What every sandboxed run gets from here:
- a killer, forked as root before the untrusted code starts (so a fork bomb that
  exhausts the pids limit cannot stop the clean-up), that kills every process of the
  sandbox users with ``kill(-1)`` (atomic against forks: background children, daemons,
  other sessions and fork bombs die too) under a real and saved uid no sandbox process
  has (KILLER_UID, root), so no survivor can signal it back; then it wipes whatever could
  carry state to the next run (everything in /tmp, /dev/shm and /dev/mqueue, without
  recursion, and every SysV IPC object in the container, whoever owns it) and *verifies*:
  no process of the sandbox users left, the scratch areas empty, no IPC object left.
  Its answer is that verification; anything it could not confirm (an error included)
  is a failure, and the caller must then not run another program in this container;
- `supervise`: a wall-clock deadline, output read through pipes only the sandbox
  users' processes hold (so they reach EOF once those are dead), of which only a head
  and a tail are kept, and the killer fired as soon as the program ends or times out.
"""

import os
import resource
import select
import signal
import stat
import time

SCRATCH = "/tmp/run"
"""A fixed path keeps tracebacks identical run to run (and cacheable)."""
SCRATCH_ROOTS = ("/tmp", "/dev/shm", "/dev/mqueue")
SYSV_IPC = ("shm", "sem", "msg")
IPC_RMID = 0
OOM_FILES = ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events")
DRAIN_SECONDS = 2.0
KILL_SECONDS = 3.0
"""How long the killer may take to see every sandbox process gone before it reports failure."""
WIPE_SECONDS = 5.0
"""How long the wipe may take (a tree of millions of files) before it reports failure."""
MAX_FD = 1 << 20
CONTAINER_CPUS = 1
"""How many of a program's processes can run at once without waiting for each other (the
container's CPU limit): with more runnable, their wait is the program's own doing."""
LOAD_RECHECK_SECONDS = 0.5
PROGRAM_NICE = 10
"""Programs yield the container's CPU to its server and killer (a fork bomb of 128
processes then cannot starve the deadline or the clean-up); idle, those cost nothing."""
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
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


def live_processes(uids) -> list:
    """Pids of live (not zombie) processes, other than the caller, any of whose real,
    effective, saved or filesystem uids is in `uids`.

    Reads /proc/<pid>/status rather than the owner of /proc/<pid>, which is root for a
    process that made itself non-dumpable (the kernel escapes a newline in a process's
    name there, so a name cannot forge a field). A process that vanishes while being read
    is skipped; an unreadable /proc raises (the caller then cannot verify anything). It
    runs several times per program, so it reads raw bytes and only the two fields."""
    me, found, wanted = os.getpid(), [], set(uids)
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            fd = os.open("/proc/%s/status" % entry, os.O_RDONLY | os.O_CLOEXEC)
            try:
                data = os.read(fd, 1 << 16)
            finally:
                os.close(fd)
            at = data.index(b"\nState:") + 8
            state = data[at:data.index(b"\n", at)].split()[0]
            at = data.index(b"\nUid:") + 5
            ids = {int(u) for u in data[at:data.index(b"\n", at)].split()}
        except (OSError, IndexError, ValueError):
            continue
        if ids & wanted and state not in (b"Z", b"X"):
            found.append(int(entry))
    return found


def kill_users(uids, killer_uid: int, deadline: float) -> bool:
    """SIGKILL every process of `uids`; True once none is left alive.

    For each uid, ``kill(-1)`` with that uid as the effective uid and KILLER_UID as the
    real one (root as the saved one, to come back): it reaches exactly the processes of
    that uid, atomically (a process with SIGKILL pending cannot fork), while none of
    them can signal the killer (their uid is neither its real nor its saved uid), so a
    survivor looping ``kill(-1, SIGKILL)`` cannot race it. Then one look at /proc for
    all of them; the kills repeat until it finds none alive (only zombies, for their
    parents or init to reap) or the deadline passes."""
    while True:
        for uid in uids:
            os.setresuid(killer_uid, uid, 0)
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
            finally:
                os.setresuid(0, 0, 0)
        if not live_processes(uids):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.0002)


def remove_entry(parent_fd: int, name: str, deadline: float) -> None:
    """Remove `name` in the directory `parent_fd`, a whole tree if it is one, as the
    current effective uid, without recursion (a 100,000-deep tree is fine) and through
    directories the owner made unreadable (mode 000). Raises on anything it cannot
    remove; only safe once no sandbox process is alive (nothing races it)."""
    if not stat.S_ISDIR(os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode):
        os.unlink(name, dir_fd=parent_fd)
        return
    os.chmod(name, 0o700, dir_fd=parent_fd)
    fd, depth = os.open(name, DIR_FLAGS, dir_fd=parent_fd), 0
    try:
        while True:
            if time.monotonic() >= deadline:
                raise TimeoutError("the wipe took too long")
            below = None
            with os.scandir(fd) as entries:
                for entry in entries:
                    if not entry.is_dir(follow_symlinks=False):
                        os.unlink(entry.name, dir_fd=fd)
                        continue
                    try:
                        os.rmdir(entry.name, dir_fd=fd)  # an empty directory, whatever its mode
                    except OSError:
                        below = entry.name
                        break
            if below is not None:  # go down into the first non-empty directory
                os.chmod(below, 0o700, dir_fd=fd)
                step = os.open(below, DIR_FLAGS, dir_fd=fd)
                depth += 1
            elif depth:  # this one is empty now: back up (the parent's next scan removes it)
                step = os.open("..", DIR_FLAGS, dir_fd=fd)
                depth -= 1
            else:
                break
            os.close(fd)
            fd = step
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent_fd)


def wipe_scratch(uids, deadline: float) -> None:
    """Remove everything in the scratch areas, each entry as its owner (only the owner
    can open up a mode-000 directory: the container's root has no CAP_DAC_OVERRIDE)."""
    for root in SCRATCH_ROOTS:
        try:
            root_fd = os.open(root, DIR_FLAGS)
        except FileNotFoundError:
            continue
        try:
            for name in os.listdir(root_fd):
                try:
                    owner = os.stat(name, dir_fd=root_fd, follow_symlinks=False).st_uid
                    os.seteuid(owner if owner in uids else 0)
                    try:
                        remove_entry(root_fd, name, deadline)
                    finally:
                        os.seteuid(0)
                except (OSError, TimeoutError):
                    pass  # judged by `scratch_is_empty`
        finally:
            os.close(root_fd)


def scratch_is_empty() -> bool:
    for root in SCRATCH_ROOTS:
        try:
            if os.listdir(root):
                return False
        except FileNotFoundError:
            continue
    return True


def sysv_ipc_objects() -> list:
    """(kind, id, owner uid, creator uid) of every SysV IPC object in this IPC namespace."""
    found = []
    for kind in SYSV_IPC:
        try:
            with open("/proc/sysvipc/" + kind) as f:
                header, *rows = [line.split() for line in f]
        except FileNotFoundError:
            continue
        uid, cuid = header.index("uid"), header.index("cuid")
        found += [(kind, int(row[1]), int(row[uid]), int(row[cuid])) for row in rows if row]
    return found


def wipe_sysv_ipc() -> None:
    """Remove every SysV IPC object, whoever owns it now: a program may hand its objects
    to root with IPC_SET, but stays their creator, and the creator may remove them."""
    objects = sysv_ipc_objects()
    if not objects:
        return
    import ctypes  # only now: it costs the supervisor a few ms to import

    libc = ctypes.CDLL(None, use_errno=True)
    for kind, ident, uid, cuid in objects:
        for euid in (cuid, uid, 0):
            os.seteuid(euid)
            try:
                if kind == "sem":
                    done = libc.semctl(ident, 0, IPC_RMID) == 0
                else:
                    done = getattr(libc, kind + "ctl")(ident, IPC_RMID, None) == 0
            finally:
                os.seteuid(0)
            if done:
                break


def kill_all(uids, killer_uid: int) -> bool:
    """Kill every process of the sandbox users, wipe, and verify; True only if the
    container is verified clean. Never raises: any error is a failed verification."""
    try:
        started = time.monotonic()
        if not kill_users(uids, killer_uid, started + KILL_SECONDS):
            return False
        wipe_scratch(uids, time.monotonic() + WIPE_SECONDS)
        wipe_sysv_ipc()
        return scratch_is_empty() and not sysv_ipc_objects() and not live_processes(uids)
    except BaseException:
        return False


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


class Killer:
    """A root process, forked before any untrusted code starts, that runs `kill_all`
    each time it is fired and reports each verification. One killer serves every
    program of a server (forking one per program cost more CPU than the clean-up
    itself). With `act_on_eof`, it also runs `kill_all` if its owner dies before ever
    firing it (the supervisor's choice); otherwise it just exits then, since a new
    server cleans up itself and a late kill could hit the new server's program."""

    def __init__(self, uids, killer_uid: int, act_on_eof: bool = True) -> None:
        go_read, self.go = os.pipe()
        self.done, done_write = os.pipe()
        self.pid = fork_retrying()
        if self.pid == 0:
            try:
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                keep_only_fds(go_read, done_write)
                fired = False
                while os.read(go_read, 1):
                    fired = True
                    os.write(done_write, b"1" if kill_all(uids, killer_uid) else b"0")
                if act_on_eof and not fired:
                    kill_all(uids, killer_uid)
            finally:
                os._exit(0)
        os.close(go_read)
        os.close(done_write)

    def fire(self) -> None:
        """Start killing and wiping; returns at once."""
        os.write(self.go, b"x")

    def finish(self) -> bool:
        """Wait until the killing and wiping are done; whether the killer verified the
        container clean (a killer that died said nothing: not clean)."""
        try:
            return os.read(self.done, 1) == b"1"
        except OSError:
            return False

    def close(self) -> None:
        """Let the killer go, and reap it."""
        for fd in (self.go, self.done):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.waitpid(self.pid, 0)
        except OSError:
            pass


def clean_slate(uids, killer_uid: int) -> bool:
    """Kill and wipe whatever an earlier run left (its supervisor may have been killed);
    whether the container is verified clean."""
    killer = Killer(uids, killer_uid)
    killer.fire()
    clean = killer.finish()
    killer.close()
    return clean


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


def enter_scratch(mem_bytes: int, cwd=None, cpu_seconds: int = 0) -> None:
    """As the sandbox user: a fresh scratch directory, no core dumps, an address-space
    limit (a big allocation is a clean MemoryError) and, if given, a CPU-time budget
    per process: SIGXCPU when it is spent, SIGKILL a second later (for a program that
    ignores SIGXCPU)."""
    os.mkdir(SCRATCH, 0o700)
    os.chdir(cwd or SCRATCH)
    os.setpriority(os.PRIO_PROCESS, 0, PROGRAM_NICE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if mem_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
    if cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def failure(ex: BaseException) -> dict:
    """The result of a command that could not be started."""
    return {"returncode": 127, "timed_out": False, "oom_killed": False,
            "stdout": "", "stderr": "%s: %s\n" % (type(ex).__name__, ex),
            "stdout_bytes": 0, "stderr_bytes": 0, "duration": 0.0}


def waiting_for_cpu(uids) -> float:
    """Seconds the busiest live sandbox process has spent runnable but waiting for a CPU
    (/proc/<pid>/schedstat's run-queue delay): time the machine's load took from it, not
    time it ran or slept. 0 when that is not the machine's doing - more runnable sandbox
    processes than the container's CPUs (a fork bomb competes with itself) - or unknown."""
    busiest, runnable = (0, 0.0), 0
    for pid in live_processes(uids):
        try:
            with open("/proc/%d/stat" % pid) as f:
                running = f.read().rpartition(")")[2].split()[0] == "R"
            with open("/proc/%d/schedstat" % pid) as f:
                on_cpu, delay = (int(x) for x in f.read().split()[:2])
        except (OSError, ValueError, IndexError):
            continue
        runnable += running
        busiest = max(busiest, (on_cpu, delay / 1e9))
    return busiest[1] if runnable <= CONTAINER_CPUS else 0.0


def supervise(child, out_fd: int, err_fd: int, timeout: float, cap: int, killer: Killer,
              oom_before: int, started: float, load_uids=None, hard_timeout: float = 0.0,
              answer_ends: bool = False) -> dict:
    """Collect a started command's output until it ends or its deadline passes, then
    fire the killer (nothing of it may live on) and describe what happened.

    With `load_uids`, the deadline moves on by the time the machine's load kept the
    program waiting for a CPU (`waiting_for_cpu`), up to `hard_timeout`: a CPU-bound
    program on a loaded machine is stopped by its CPU budget, not by the wall clock.

    With `answer_ends` (the grading runner, whose stdout is its answer and which closes it
    when the answer is complete), EOF on stdout ends the command as a clean exit would:
    the killer fires at once and nothing more is read or waited for (the result says
    `answered`, with returncode 0; the caller collects the child's exit later).

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
    hard_deadline = started + max(hard_timeout, timeout)
    ended = timed_out = killed = answered = False
    while True:
        now = time.monotonic()
        if not ended and (pidfd is None and child.poll() is not None):
            ended = True
        if not ended and now >= deadline and load_uids and now < hard_deadline:
            deadline = min(started + timeout + waiting_for_cpu(load_uids), hard_deadline)
            if now < deadline:  # look again soon: the load may have gone
                deadline = min(deadline, now + LOAD_RECHECK_SECONDS)
        if not ended and now >= deadline:
            ended = timed_out = True
        if ended and not killed:
            killer.fire()
            killed = True
            deadline = now + DRAIN_SECONDS
        if killed and (not open_fds or now >= deadline or answered):
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
                if answer_ends and fd == out_fd and not ended:
                    ended = answered = True
    if pidfd is not None:
        os.close(pidfd)
    for fd in captures:
        os.close(fd)
    returncode = 0 if answered else child.wait()  # answered: its exit is not waited for (`settle`)
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
        "answered": answered,
    }

