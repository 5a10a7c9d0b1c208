"""fof-inspect program server: runs Python programs one after another from a warm interpreter.

The fast path of grading. Started once per container as a long-lived ``docker exec``
of ``python3 -I -c`` as root (sent with jail.py, see payload.py), so standard library
only. It answers frames on stdin with frames on stdout, each a 4-byte big-endian
length and UTF-8 JSON:
    {"op": "hello"}  ->  {"pid": ..., "python": ..., "clean": ...}
    {"op": "run", "source", "timeout", "cpu_seconds", "mem_bytes", "output_cap"}  ->  the
        supervisor's result object (returncode, timed_out, oom_killed, stdout, stderr, ...,
        cpu_seconds, clean).
A request with ``"kind": "grade"`` is the grader's command (fof_inspect/grading/command.py):
its child runs the grading runner (fof_runner, sent along, see payload.py) on the exec's
input instead of a script, with the candidate as the sandbox user and the checker, which
decides the verdict, as a second user (`CHECKER_UID`), so the candidate can neither
signal, trace nor read it.

A program gets the isolation the supervisor gives a command (jail.py): a root killer
(one per server, forked when it starts, before any request), a wall-clock backstop
(`timeout`) and a CPU-time budget per process (`cpu_seconds`; spending it is a timeout
too), capped output, every process of the sandbox users killed and the scratch areas
and IPC objects wiped and verified when it ends. The answer comes only after that verification, and says (`clean`) whether it
held; if not, the server runs nothing more (the host replaces the container).

A program is forked not by this server, which reads every request, but by a zygote
forked at start before any request (so no program's memory holds an earlier one's
source or tests). The child makes its own session, volunteers for the OOM killer,
drops to the sandbox user, enters a fresh scratch directory under rlimits and keeps no
descriptor but /dev/null and its output pipes, then runs the source (its exec input,
read from a memfd) as ``python3 -I solution.py`` would: written to
/tmp/run/solution.py (so tracebacks show its lines), compiled under that name, run in a
fresh ``__main__``, with uncaught exceptions, SystemExit and the interpreter's exit
steps (non-daemon threads, atexit, flushing) as in a fresh interpreter.

No program sees another's Python state: each runs in its own fork, and neither the
server nor the zygote runs program code. Modules benchmark programs commonly import
are imported once before forking (so ``import typing`` is free), in the state a fresh
import leaves.
"""

import atexit
import builtins
import ctypes
import gc
import io
import json
import os
import signal
import socket
import sys
import time
from importlib.machinery import SourceFileLoader

import fof_runner
from fof_jail import (
    BASE_ENV,
    SCRATCH,
    Killer,
    clean_slate,
    drop_privileges,
    enter_scratch,
    failure,
    fork_retrying,
    keep_only_fds,
    oom_kills,
    supervise,
)

MARKER = b"fof-inspect program server"
"""In the command line of every server, so that a new one can find and stop an old one."""
PRELOAD = (
    "array", "bisect", "cmath", "collections", "copy", "datetime", "decimal", "fractions",
    "functools", "hashlib", "heapq", "itertools", "math", "operator", "random", "re",
    "statistics", "string", "threading", "typing",
)
SOURCE_NAME = "solution.py"
PR_SET_DUMPABLE = 4
READ_CHUNK = 1 << 20
libc = ctypes.CDLL(None, use_errno=True)
GRADE_UIDS: list = []
"""The candidate's and the checker's uids (the spec's `uids`), set before the zygote starts."""


# ---- the program, in its forked child -------------------------------------------


def std_stream(fd: int, name: str, writing: bool, errors: str, line_buffering: bool) -> io.TextIOWrapper:
    """sys.stdin/stdout/stderr as a fresh interpreter makes them for a pipe or file."""
    raw = io.FileIO(fd, "w" if writing else "r", closefd=False)
    raw.name = name
    buffered = io.BufferedWriter(raw) if writing else io.BufferedReader(raw)
    stream = io.TextIOWrapper(buffered, encoding="utf-8", errors=errors, newline="\n",
                              line_buffering=line_buffering)
    stream.mode = "w" if writing else "r"
    return stream


def show(ex: BaseException, tb) -> None:
    """Print an uncaught exception through sys.excepthook, as the interpreter does."""
    ex = ex.with_traceback(tb)
    sys.last_type, sys.last_value, sys.last_traceback = type(ex), ex, tb
    try:
        sys.excepthook(type(ex), ex, tb)
    except BaseException:
        sys.__excepthook__(type(ex), ex, tb)


def exit_status(ex: SystemExit) -> int:
    code = ex.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write("%s\n" % (code,))
    except BaseException:
        pass
    return 1


def finish(status: int) -> int:
    """The interpreter's exit steps: join non-daemon threads, run atexit, flush."""
    if "threading" in sys.modules:
        try:
            sys.modules["threading"]._shutdown()
        except BaseException:
            pass
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None and not stream.closed:
                stream.flush()
        except BaseException:
            if stream is sys.stdout:
                status = 120  # as the interpreter exits when it cannot flush stdout
    return status


def stack_depth() -> int:
    """The depth of the caller's frame: the server frames a program's own would sit on."""
    depth, frame = 0, sys._getframe(1)
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


def run_as_script(source: str) -> int:
    """Run `source` as ``python3 -I solution.py`` in the scratch directory would; the exit status."""
    path = os.path.join(SCRATCH, SOURCE_NAME)
    data = source.encode("utf-8", "surrogateescape")
    with open(path, "wb") as f:
        f.write(data)
    main = type(sys)("__main__")
    main.__file__, main.__cached__, main.__builtins__ = path, None, builtins
    main.__loader__ = SourceFileLoader("__main__", path)
    sys.modules["__main__"] = main
    sys.argv = [SOURCE_NAME]
    sys.orig_argv = ["python3", "-I", SOURCE_NAME]
    sys.stdin = sys.__stdin__ = std_stream(0, "<stdin>", False, "strict", False)
    sys.stdout = sys.__stdout__ = std_stream(1, "<stdout>", True, "strict", False)
    sys.stderr = sys.__stderr__ = std_stream(2, "<stderr>", True, "backslashreplace", True)
    # the frames below the program's (and exec's own level) must not count against its limit
    sys.setrecursionlimit(sys.getrecursionlimit() + stack_depth() + 1)
    try:
        code = compile(data, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as ex:
        show(ex, None)  # no traceback header, as for a script that does not compile
        return finish(1)
    try:
        exec(code, main.__dict__)
    except SystemExit as ex:
        return finish(exit_status(ex))
    except BaseException as ex:
        tb = ex.__traceback__
        show(ex, tb.tb_next if tb is not None else None)  # from the program's own frame
        status = finish(1)
        if isinstance(ex, KeyboardInterrupt):
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        return status
    return finish(0)


def read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, READ_CHUNK):
        chunks.append(chunk)
    return b"".join(chunks)


class Isolation:
    """The grading runner's hooks: the candidate becomes the sandbox user in a fresh
    scratch directory under the program's limits (as a script's process does below), the
    checker a user of its own that no program can reach."""

    def __init__(self, limits: dict, uids: list, gid: int) -> None:
        self.limits, self.uids, self.gid = limits, uids, gid
        self.cpu_seconds = int(limits.get("cpu_seconds") or 0)

    def candidate(self) -> None:
        volunteer_for_oom()
        drop_privileges(self.uids[0], self.gid)
        libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        enter_scratch(int(self.limits["mem_bytes"]), cpu_seconds=self.cpu_seconds)
        os.environ.clear()
        os.environ.update(BASE_ENV, PWD=SCRATCH)

    def checker(self) -> None:
        checker_uid = self.uids[1]
        drop_privileges(checker_uid, checker_uid)
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        os.environ.clear()
        os.environ.update(BASE_ENV)


def volunteer_for_oom() -> None:
    """The container's OOM killer should take a program, not the server."""
    try:
        adj = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        os.write(adj, b"1000")
        os.close(adj)
    except OSError:
        pass


def child(limits: dict, uid: int, gid: int, null: int, stdin_fd: int, out_write: int, err_write: int) -> None:
    """The forked child (of the zygote): isolate, run the program (the exec's input,
    on `stdin_fd`), exit. Never returns into the zygote."""
    status = 127
    try:
        os.setsid()
        if limits.get("kind") == "grade":
            os.dup2(stdin_fd, 0)  # the runner reads it, the candidate never sees it
            os.dup2(out_write, 1)
            os.dup2(err_write, 2)
            keep_only_fds()
            fof_runner.serve_request(Isolation(limits, GRADE_UIDS, gid), loaded=limits.get("runner") == "loaded")
        source = read_all(stdin_fd).decode("utf-8", "surrogateescape")
        volunteer_for_oom()
        os.dup2(null, 0)
        os.dup2(out_write, 1)
        os.dup2(err_write, 2)
        keep_only_fds()
        drop_privileges(uid, gid)
        libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # as after an exec: /proc/self is the sandbox user's
        enter_scratch(int(limits["mem_bytes"]), cpu_seconds=int(limits.get("cpu_seconds") or 0))
        os.environ.clear()
        os.environ.update(BASE_ENV, PWD=SCRATCH)  # PWD as the shell that starts the exec path sets it
        status = run_as_script(source)
    except BaseException as ex:
        try:
            os.write(2, ("%s: %s\n" % (type(ex).__name__, ex)).encode())
        except BaseException:
            pass
    finally:
        os._exit(status)


# ---- the server -------------------------------------------------------------------


class Zygote:
    """A root process forked when the server starts, before it reads any request, that
    forks every program: so a program's memory holds nothing of earlier requests (the
    server's heap does). It is sent only limits and descriptors (the program's input as
    a memfd, its output pipes), never a program or its tests, and reports each child's
    pid and then its exit status and CPU time (it reaps it). Started by `start_zygote`."""

    def __init__(self, sock: socket.socket, pid: int) -> None:
        self.sock, self.pid = sock, pid
        self.pending: "Spawned | None" = None
        """An answered program whose exit the zygote has still to report."""

    def settle(self) -> None:
        """Take the pending exit report (the killer has ended that child already)."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.wait()

    def spawn(self, limits: dict, stdin_fd: int, out_write: int, err_write: int) -> "Spawned":
        self.settle()
        socket.send_fds(self.sock, [json.dumps(limits).encode()], [stdin_fd, out_write, err_write])
        answer = self.sock.recv(64)
        if not answer:
            raise OSError("the sandbox's zygote is gone")
        return Spawned(self.sock, int(answer))


class Spawned:
    """Popen's pid/poll/wait for a child of the zygote."""

    def __init__(self, sock: socket.socket, pid: int) -> None:
        self.sock, self.pid = sock, pid
        self.returncode = None
        self.cpu = 0.0

    def poll(self):
        if self.returncode is None:
            try:
                self.take(self.sock.recv(4096, socket.MSG_DONTWAIT))
            except BlockingIOError:
                pass
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            self.take(self.sock.recv(4096))
        return self.returncode

    def take(self, message: bytes) -> None:
        if not message:
            raise OSError("the sandbox's zygote is gone")
        ended = json.loads(message)
        self.returncode, self.cpu = ended["status"], ended["cpu"]


def start_zygote(uid: int, gid: int, null: int) -> Zygote:
    """Fork the zygote. A plain function, not a constructor: a program's stack then sits on
    Python frames only, which `run_as_script` counts to give it the recursion limit of a script."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = fork_retrying()
    if pid == 0:
        try:
            ours.close()
            keep_only_fds(theirs.fileno(), null)
            serve_forks(theirs, uid, gid, null)
        finally:
            os._exit(0)
    theirs.close()
    return Zygote(ours, pid)


def serve_forks(sock: socket.socket, uid: int, gid: int, null: int) -> None:
    """The zygote's loop: fork a child per message, report its pid, reap it, report its end."""
    while True:
        message, fds, _, _ = socket.recv_fds(sock, 1 << 16, 3)
        if not message:
            return  # the server is gone
        pid = fork_retrying()
        if pid == 0:
            sock.close()
            child(json.loads(message), uid, gid, null, *fds)
        for fd in fds:
            os.close(fd)
        sock.send(b"%d" % pid)
        _, status, usage = os.wait4(pid, 0)
        exit_code = os.waitstatus_to_exitcode(status)
        sock.send(json.dumps({"status": exit_code, "cpu": usage.ru_utime + usage.ru_stime}).encode())


def run(request: dict, zygote: Zygote, killer: Killer) -> dict:
    """Run one program: its input in a memfd, a child of the zygote, supervised under
    the wall-clock backstop (`timeout`); a child that spent its CPU budget
    (`cpu_seconds`: SIGXCPU, or SIGKILL at the hard limit) timed out too."""
    stdin_fd = os.memfd_create("stdin")
    data = request.pop("source").encode("utf-8", "surrogateescape")
    while data:
        data = data[os.write(stdin_fd, data):]
    os.lseek(stdin_fd, 0, os.SEEK_SET)
    out_fd, out_write = os.pipe()
    err_fd, err_write = os.pipe()
    oom_before = oom_kills()
    started = time.monotonic()
    try:
        spawned = zygote.spawn(request, stdin_fd, out_write, err_write)
    except OSError as ex:
        for fd in (out_fd, err_fd):
            os.close(fd)
        killer.fire()
        return dict(failure(ex), zygote_lost=True)
    finally:
        for fd in (stdin_fd, out_write, err_write):
            os.close(fd)
    grading = request.get("kind") == "grade"
    result = supervise(spawned, out_fd, err_fd, float(request["timeout"]), int(request["output_cap"]),
                       killer, oom_before, started, GRADE_UIDS, float(request.get("hard_timeout") or 0),
                       answer_ends=grading)
    if result.pop("answered"):
        zygote.pending = spawned  # its exit is reported later: collected after the answer
    cpu_budget = int(request.get("cpu_seconds") or 0)
    if cpu_budget and (result["returncode"] == -signal.SIGXCPU
                       or (result["returncode"] == -signal.SIGKILL and spawned.cpu >= cpu_budget)):
        result["timed_out"] = result["cpu_timed_out"] = True
    result["cpu_seconds"] = round(spawned.cpu, 4)
    return result


def stop_other_servers() -> None:
    """SIGKILL the root processes of earlier servers (one abandoned mid-program, its
    killers), so that none of them can later kill one of our programs."""
    me = os.getpid()
    for _ in range(1000):
        others = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == me:
                continue
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    if MARKER not in f.read():
                        continue
                with open("/proc/%s/status" % entry) as f:  # a killer mid-kill is root only as its saved uid
                    root = any(line.startswith("Uid:") and "0" in line.split()[1:] for line in f)
            except OSError:
                continue
            if root:
                others.append(int(entry))
        if not others:
            return
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.001)


def read_frame(fd: int):
    header = read_exact(fd, 4)
    if header is None:
        return None
    body = read_exact(fd, int.from_bytes(header, "big"))
    return None if body is None else json.loads(body)


def read_exact(fd: int, n: int):
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def write_frame(fd: int, message: dict) -> None:
    body = json.dumps(message).encode()
    view = memoryview(len(body).to_bytes(4, "big") + body)
    while view:
        view = view[os.write(fd, view):]


def main() -> None:
    spec = json.loads(sys.argv[1])
    uid, gid = int(spec["uid"]), int(spec["gid"])
    uids, killer_uid = [int(u) for u in spec["uids"]], int(spec["killer_uid"])
    channel_in, channel_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)  # nothing but frames may reach the channel
    os.dup2(null, 1)
    stop_other_servers()
    clean = clean_slate(uids, killer_uid)
    killer = Killer(uids, killer_uid, act_on_eof=False)  # before any request, small: before the preloads
    for name in PRELOAD:
        __import__(name)
    gc.freeze()  # forked programs' collections then leave the server's pages shared
    os.set_inheritable(null, False)
    GRADE_UIDS[:] = uids
    zygote = start_zygote(uid, gid, null)  # before any request
    while (request := read_frame(channel_in)) is not None:
        if request.get("op") != "run":
            write_frame(channel_out, {"pid": os.getpid(), "python": sys.version.split()[0], "clean": clean})
        elif not clean:  # not verified clean: nothing more runs here (the host replaces the container)
            write_frame(channel_out, dict(failure(RuntimeError("the sandbox is not verified clean")), clean=False))
        else:
            try:
                result = run(request, zygote, killer)
            except BaseException as ex:  # the server's own failure: answer, then run nothing more
                killer.fire()
                result = dict(failure(ex), zygote_lost=True)
            # the answer waits for the verified clean-up: a container is reused only if it is clean
            clean = killer.finish() and not result.pop("zygote_lost", False)
            result["clean"] = clean
            write_frame(channel_out, result)
            if clean:  # else a child may live on, and nothing more runs here anyway
                try:
                    zygote.settle()
                except OSError:
                    pass  # the next spawn finds the zygote gone
        del request
    killer.fire()
    killer.finish()
    killer.close()


if __name__ == "__main__":
    main()
