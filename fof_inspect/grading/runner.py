"""The grading runner: the benchmark's tests run in a checker process the candidate cannot reach.

Shipped as source on the grader command's stdin (see command.py) and run by any Python
3.11+, so standard library only, importing nothing from fof_inspect. The request on fd 0
is a header line ``fof-grade 1 <runner bytes> <candidate bytes> <tests bytes>``, then
the candidate part (one JSON line), the runner's source and the tests part (JSON); so a
log that shows the first lines of an exec's input shows the candidate. BOOTSTRAP reads
the header, the candidate part and the runner and calls `main`, which:

1. takes the candidate part, ``{"candidate": module source, "filename": ..., "entry_point": ...}``:
   the runner forks the **candidate process**, which loads that module as ``__main__`` and
   then only answers calls; it is forked *before* the next frame is read, so it never
   holds the tests;
2. the tests part, ``{"prefix": trusted benchmark context, "tests": test source, "entry_point",
   "names": optional, `free_names` of the test source}``:
   the runner itself becomes the **checker**. It runs the prefix (HumanEval's prompt with
   its imports and helpers, MBPP's test_imports) and then the tests, with the entry point
   and any other name the tests take from the candidate bound to proxies.

Calls cross a socket as plain data: None, bool, int, float, complex, str, bytes, bytearray,
list, tuple, dict, set, frozenset, nested; a subclass of one of these crosses as the base
type's value (so an ``__eq__`` of the candidate's never runs in the checker). Any other
object (a generator, an instance of a class the candidate defined, a function) stays in the
candidate and crosses as a remote handle: the checker may call it, iterate it, read and set
attributes, take ``len``/``bool``/``str``/items, but compares it only by identity. Whatever
else arrives (a malformed frame, an unknown tag) raises TypeError in the checker. An
exception raised in the candidate comes back with its class name, message and the
candidate's traceback, and is re-raised in the checker as the same builtin exception class
(or a stand-in class of the same name).

The checker decides the verdict: passed when the tests ran to the end, else the class of
the uncaught exception, or EarlyExit / Killed / Timeout from how the candidate process
ended. It writes one JSON result to fd 1, which the candidate does not hold; the
candidate's own stdout and stderr go to pipes the checker reads (head and tail kept for
feedback, never part of the verdict). Process separation beyond that (the candidate cannot
signal, trace or read the checker) is the sandbox's: `ISOLATION` hooks (the fof_docker
server gives the candidate and the checker different users) or, without hooks, only a
non-dumpable checker under the same user.
"""

import builtins
from builtins import (  # bound now: a candidate that patches builtins changes only its own code
    BaseException, Exception, KeyError, OSError, RecursionError, StopIteration, SystemExit, TypeError,
    UnicodeDecodeError, ValueError, bool, bytearray, bytes,
    complex, dict, float, frozenset, getattr, id, int, isinstance, issubclass, iter, len, list, max, min,
    next, repr, set, setattr, sorted, str, tuple, type,
)
import io
import json
import os
from json.decoder import JSONDecoder
from json.encoder import encode_basestring_ascii
from os import read as os_read, write as os_write
import select
import signal
import socket
import sys
import traceback

VERSION = 1
RUNNER_FILES = ("fof_runner.py", globals().get("__file__"))
"""The runner's own frames, left out of the tracebacks a program's author sees."""
TESTS_FILENAME = "tests.py"
PREFIX_FILENAME = "prefix.py"
OUTPUT_CAP = 16 * 1024
"""Head and tail kept of each candidate stream, for feedback."""
MAX_FRAME = 256 * 1024**2
PIPE_BYTES = 1 << 20
EXIT_GRACE_SECONDS = 1.0
"""How long a failed candidate may take over its exit steps (atexit, threads), for its output."""
MAX_DEPTH = 200
"""Nesting depth of a value that may cross (deeper values raise TypeError)."""
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PLAIN_SCALARS = (bool, int, float, str)
EXIT_SIGNAL_TIMEOUT = (signal.SIGXCPU,)
"""Signals meaning the candidate ran out of its CPU budget."""


# ---- frames -------------------------------------------------------------------------


def read_exact(fd, n):
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the grader's request ended early")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


MAGIC = "fof-grade"
BOOTSTRAP = (
    "import os\n"
    "def _read(n):\n"
    "    data = b''\n"
    "    while len(data) < n:\n"
    "        chunk = os.read(0, n - len(data))\n"
    "        if not chunk:\n"
    "            raise SystemExit('fof grader: the request ended early')\n"
    "        data += chunk\n"
    "    return data\n"
    "_header = b''\n"
    "while not _header.endswith(b'\\n') and len(_header) < 200:\n"
    "    _header += _read(1)\n"
    "_sizes = [int(n) for n in _header.split()[2:5]]\n"
    "_candidate = _read(_sizes[1])\n"
    "_runner = {'__name__': 'fof_runner'}\n"
    "exec(compile(_read(_sizes[0]), 'fof_runner.py', 'exec'), _runner)\n"
    "_runner['main'](_candidate, _sizes[2], globals().get('ISOLATION'))\n"
)
"""What ``python3 -I -c`` runs (GRADE_COMMAND, command.py): reads the header, the
candidate part and the runner, hands over to `main`; tests stay unread."""


def request_header(runner, candidate, tests):
    return ("%s %d %d %d %d\n" % (MAGIC, VERSION, len(runner), len(candidate), len(tests))).encode()


def serve_request(isolation=None, loaded=False):
    """BOOTSTRAP's steps for a process that has this runner loaded (fof_docker's server):
    the request's runner is compiled only if it is not this one; with `loaded` (the
    sandbox's own word, never the request's) an empty runner part means this one."""
    header = b""
    while not header.endswith(b"\n") and len(header) < 200:
        header += read_exact(0, 1)
    sizes = [int(n) for n in header.split()[2:5]]
    candidate = read_exact(0, sizes[1])
    runner = read_exact(0, sizes[0])
    if runner == globals().get("SOURCE") or (loaded and not runner):
        main(candidate, sizes[2], isolation)
    namespace = {"__name__": "fof_runner"}
    exec(compile(runner, "fof_runner.py", "exec"), namespace)
    namespace["main"](candidate, sizes[2], isolation)


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os_write(fd, view):]


SCAN = JSONDecoder().scan_once
"""The C scanner, bound now: the candidate's side of the link works with builtins and
json's Python layer patched."""
FLOAT_TEXT = {float("inf"): "Infinity", float("-inf"): "-Infinity"}


def dump(v):
    """JSON text of a wire tree (None, bool, int, float, str, lists), with no Python-level json code."""
    t = type(v)
    if t is str:
        return encode_basestring_ascii(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return int.__repr__(v)
    if t is float:
        return "NaN" if v != v else FLOAT_TEXT.get(v) or float.__repr__(v)
    return "[" + ",".join([dump(x) for x in v]) + "]"


def load(text):
    value, end = SCAN(text, 0)
    if end != len(text):
        raise ValueError("trailing data")
    return value


# ---- plain data on the wire -----------------------------------------------------------


class Wire:
    """Encodes values as JSON-able trees; objects that are not plain data become handles.

    `exports` holds this side's objects the peer refers to by handle number; `proxy`
    makes the local stand-in for a handle of the peer's."""

    def __init__(self, proxy):
        self.exports = {}
        self.proxy = proxy

    def export(self, obj):
        key = id(obj)
        self.exports[key] = obj
        return ["H", key]

    def encode(self, v, depth=0):
        t = type(v)
        if v is None or t in PLAIN_SCALARS:
            return v
        if depth > MAX_DEPTH:
            raise TypeError("a value nested more than %d deep cannot be graded" % MAX_DEPTH)
        d = depth + 1
        if t is list or t is tuple or t is set or t is frozenset:
            return [{list: "L", tuple: "T", set: "S", frozenset: "F"}[t]] + [self.encode(x, d) for x in v]
        if t is dict:
            out = ["D"]
            for k, x in v.items():
                out += [self.encode(k, d), self.encode(x, d)]
            return out
        if t is bytes:
            return ["B", v.decode("latin-1")]
        if t is bytearray:
            return ["A", v.decode("latin-1")]
        if t is complex:
            return ["C", v.real, v.imag]
        if t is RemoteObject or t is CallbackProxy:
            return ["R", object.__getattribute__(v, "_handle")]
        for base in (bool, int, float, complex, str, bytes, bytearray, tuple, list, dict, frozenset, set):
            if isinstance(v, base):  # a subclass crosses as its base type's value
                return self.encode(plain_value(v, base), depth)
        return self.export(v)

    def decode(self, v, depth=0):
        if v is None or type(v) in PLAIN_SCALARS:
            return v
        if type(v) is not list or not v or type(v[0]) is not str or depth > MAX_DEPTH + 2:
            raise TypeError("the program sent a value the grader cannot read (only builtin data crosses)")
        tag, items, d = v[0], v[1:], depth + 1
        if tag in ("L", "T", "S", "F"):
            values = [self.decode(x, d) for x in items]
            return {"L": list, "T": tuple, "S": set, "F": frozenset}[tag](values)
        if tag == "D" and len(items) % 2 == 0:
            return {self.decode(items[i], d): self.decode(items[i + 1], d) for i in range(0, len(items), 2)}
        if tag in ("B", "A") and len(items) == 1 and type(items[0]) is str:
            return (bytes if tag == "B" else bytearray)(items[0].encode("latin-1"))
        if tag == "C" and len(items) == 2 and all(type(x) in (int, float) for x in items):
            return complex(items[0], items[1])
        if tag == "H" and len(items) == 1 and type(items[0]) is int:
            return self.proxy(items[0])
        if tag == "R" and len(items) == 1 and items[0] in self.exports:
            return self.exports[items[0]]
        raise TypeError("the program sent a value the grader cannot read (tag %r)" % (tag[:20],))


def plain_value(v, base):
    """The builtin value inside an instance of a subclass of `base`, read by the base's own methods."""
    if base is bool or base is int:
        return int.__index__(v) if base is int else bool(int.__index__(v))
    if base is float:
        return float.__float__(v)
    if base is complex:
        return complex(float.__float__(v.real), float.__float__(v.imag))
    if base is str:
        return str.__str__(v)
    if base in (bytes, bytearray):
        return base(memoryview(v))
    if base is dict:
        return {k: dict.__getitem__(v, k) for k in dict.__iter__(v)}
    return base(iter(v)) if base in (tuple, list) else base(set.__iter__(v) if base is set else frozenset.__iter__(v))


# ---- the socket between checker and candidate ----------------------------------------


class CandidateEnded(BaseException):
    """The candidate process ended (or broke the protocol) while the checker waited on it."""


class Link:
    """Length-prefixed JSON messages over the socket; while waiting, the checker also drains
    the candidate's output pipes (`captures`)."""

    def __init__(self, sock, captures=None):
        self.fd = sock
        self.buffer = bytearray()
        self.captures = captures or {}

    def send(self, message):
        data = dump(message).encode()
        try:
            write_all(self.fd, len(data).to_bytes(4, "big") + data)
        except OSError:
            raise CandidateEnded("the program closed the grader's channel")

    def receive(self):
        while True:
            if len(self.buffer) >= 4:
                n = int.from_bytes(self.buffer[:4], "big")
                if n > MAX_FRAME:
                    raise TypeError("the program sent a value larger than the grader reads")
                if len(self.buffer) >= 4 + n:
                    body = bytes(self.buffer[4:4 + n])
                    del self.buffer[:4 + n]
                    try:
                        return load(body.decode("ascii"))
                    except (ValueError, RecursionError, StopIteration, UnicodeDecodeError):
                        raise TypeError("the program sent a value the grader cannot read")
            self.fill()

    def fill(self):
        if not self.captures:
            chunk = os_read(self.fd, 1 << 16)
            if not chunk:
                raise CandidateEnded("the program ended")
            self.buffer += chunk
            return
        while True:
            ready = select.select([self.fd, *self.captures], [], [])[0]
            for fd in ready:
                if fd != self.fd:
                    drain(fd, self.captures)
            if self.fd in ready:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    raise CandidateEnded("the program ended")
                self.buffer += chunk
                return


def widen(fd):
    """A bigger pipe buffer: a loud program costs fewer round trips."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (OSError, AttributeError, ImportError):
        pass


def drain(fd, captures):
    chunk = os.read(fd, PIPE_BYTES)
    if chunk:
        captures[fd].add(chunk)
    else:
        del captures[fd]
        os.close(fd)


class Capture:
    """The first and last `cap // 2` bytes of a stream, and how many there were."""

    def __init__(self, cap):
        self.half = cap // 2
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, chunk):
        self.total += len(chunk)
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        if len(self.tail) > 2 * self.half:
            del self.tail[: len(self.tail) - self.half]

    def text(self):
        tail = self.tail[-self.half:] if self.half else b""
        dropped = self.total - len(self.head) - len(tail)
        marker = b"\n[... %d bytes of output dropped ...]\n" % dropped if dropped else b""
        return bytes(self.head + marker + tail).decode("utf-8", errors="replace")


# ---- the candidate process ------------------------------------------------------------


class CallbackProxy:
    """A checker object (e.g. a callable the tests pass) as the candidate sees it: calls go back."""

    def __init__(self, peer, handle):
        self._peer, self._handle = peer, handle

    def __call__(self, *args, **kwargs):
        wire = self._peer.wire
        return self._peer.request(["call", self._handle, wire.encode(list(args)), wire.encode(kwargs)])

    def __iter__(self):
        return self

    def __next__(self):
        return self._peer.request(["next", self._handle])


def remote_error(ex, filename):
    """An exception as it crosses: class name, whether it is the builtin class, args, traceback."""
    name = type(ex).__name__
    builtin = getattr(builtins, name, None) is type(ex)
    frames = [f for f in traceback.extract_tb(ex.__traceback__) if f.filename not in RUNNER_FILES]
    text = "".join(traceback.format_list(frames)) + "".join(traceback.format_exception_only(type(ex), ex))
    return ["raise", name, builtin, safe_args(ex), text]


def safe_args(ex):
    """An exception's args if they are plain scalars (KeyError('a') stays itself), else its message."""
    try:
        args = list(ex.args)
        if all(a is None or type(a) in PLAIN_SCALARS for a in args):
            return args
        return [str(ex)]
    except BaseException:
        return []


class CandidatePeer:
    """Answers the checker's requests about the candidate's module (and calls back into it)."""

    def __init__(self, link, namespace, filename):
        self.link = link
        self.namespace = namespace
        self.filename = filename
        self.wire = Wire(lambda handle: CallbackProxy(self, handle))

    def request(self, message):
        """Ask the checker (a callback) and serve its requests until it answers."""
        self.link.send(message)
        return self.serve(until_answer=True)

    def serve(self, until_answer=False):
        while True:
            message = self.link.receive()
            op = message[0]
            if op == "return":
                if until_answer:
                    return self.wire.decode(message[1])
                continue
            if op == "raise":
                if until_answer:
                    raise rebuild_exception(message)
                continue
            if op == "exit":
                return None
            try:
                reply = ["return", self.wire.encode(self.perform(op, message[1:]))]
            except SystemExit:
                raise  # the program exits: the checker sees it end
            except BaseException as ex:
                try:
                    reply = remote_error(ex, self.filename)
                except BaseException:
                    reply = ["raise", "Exception", True, [], "an exception the grader could not describe\n"]
            self.link.send(reply)

    def perform(self, op, args):
        w = self.wire
        if op == "names":
            return describe_names(self.namespace, args[0])
        target = w.exports[args[0]]
        if op == "call":
            return target(*w.decode(args[1]), **w.decode(args[2]))
        if op == "getattr":
            return getattr(target, args[1])
        if op == "setattr":
            return setattr(target, args[1], w.decode(args[2]))
        if op == "getitem":
            return target[w.decode(args[1])]
        if op == "contains":
            return w.decode(args[1]) in target
        if op == "unary":
            return {"len": len, "bool": bool, "str": str, "repr": repr, "iter": iter, "next": next}[args[1]](target)
        raise TypeError("unknown request %r" % (op,))


def describe_names(namespace, names):
    """How each name the tests use is bound in the candidate: a standard module (by name) or a value."""
    out = {}
    for name in names:
        if type(name) is not str or name not in namespace:
            continue
        value = namespace[name]
        module = getattr(value, "__name__", None) if type(value) is type(sys) else None
        if isinstance(module, str) and module.partition(".")[0] in sys.stdlib_module_names:
            out[name] = ("module", module)
        elif type(value) is not type(sys):
            out[name] = ("value", value)
    return out


def std_stream(fd, name, writing, errors, line_buffering):
    """sys.stdin/stdout/stderr as a fresh interpreter makes them for a pipe or file."""
    raw = io.FileIO(fd, "w" if writing else "r", closefd=False)
    raw.name = name
    buffered = io.BufferedWriter(raw) if writing else io.BufferedReader(raw)
    stream = io.TextIOWrapper(buffered, encoding="utf-8", errors=errors, newline="\n", line_buffering=line_buffering)
    stream.mode = "w" if writing else "r"
    return stream


def finish_interpreter():
    """The interpreter's exit steps: join non-daemon threads, run atexit, flush."""
    if "threading" in sys.modules:
        try:
            sys.modules["threading"]._shutdown()
        except BaseException:
            pass
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None and not stream.closed:
                stream.flush()
        except BaseException:
            pass


def stack_depth():
    depth, frame = 0, sys._getframe(1)
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


def candidate_main(sock, out_w, err_w, part, isolation):
    """The forked candidate: isolate, load the module, serve calls until told to exit. Never returns."""
    status = 0
    try:
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.closerange(3, sock)
        os.closerange(sock + 1, 1 << 20)
        if isolation is not None:
            isolation.candidate()
        else:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the checker (the local sandbox kills only it)
        sys.stdin = sys.__stdin__ = std_stream(0, "<stdin>", False, "strict", False)
        sys.stdout = sys.__stdout__ = std_stream(1, "<stdout>", True, "strict", False)
        sys.stderr = sys.__stderr__ = std_stream(2, "<stderr>", True, "backslashreplace", True)
        link = Link(sock)
        namespace, loaded = load_module(part, link)
        if loaded:
            link.send(["loaded"])
            peer = CandidatePeer(link, namespace, namespace["__file__"])
            peer.serve()
            finish_interpreter()
    except SystemExit as ex:
        status = ex.code if isinstance(ex.code, int) else (0 if ex.code is None else 1)
        finish_interpreter()
    except BaseException:
        status = 1
    os._exit(status & 0xFF)


def load_module(part, link):
    """Run the candidate's module as ``__main__`` would; report an uncaught exception to the checker."""
    filename = os.path.join(os.getcwd(), part.get("filename") or "solution.py")
    source = part["candidate"]
    try:
        with open(filename, "wb") as f:  # so tracebacks show its lines, as for a script
            f.write(source.encode("utf-8", "surrogatepass"))
    except OSError:
        pass
    from importlib.machinery import SourceFileLoader

    main = type(sys)("__main__")
    main.__file__, main.__cached__, main.__builtins__ = filename, None, builtins
    main.__loader__ = SourceFileLoader("__main__", filename)
    sys.modules["__main__"] = main
    sys.argv = [os.path.basename(filename)]
    sys.setrecursionlimit(sys.getrecursionlimit() + stack_depth() + 4)
    try:
        try:
            code = compile(source, filename, "exec", dont_inherit=True)
        except ValueError as ex:  # NUL bytes: a SyntaxError, as for a script
            raise SyntaxError(str(ex)) from None
        exec(code, main.__dict__)
    except SystemExit:
        raise
    except BaseException as ex:
        try:
            sys.stderr.flush()
        except BaseException:
            pass
        link.send(remote_error(ex, filename))
        return main.__dict__, False
    return main.__dict__, True


def prctl(option, value):
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError, ImportError):
        pass


# ---- the checker -----------------------------------------------------------------------


class RemoteObject:
    """A candidate object the checker may use but never compare by value: equality and
    hashing are identity, so no method of the candidate's decides a test's comparison."""

    __slots__ = ("_peer", "_handle")

    def __init__(self, peer, handle):
        object.__setattr__(self, "_peer", peer)
        object.__setattr__(self, "_handle", handle)

    def _ask(self, op, *args):
        peer = object.__getattribute__(self, "_peer")
        return peer.ask([op, object.__getattribute__(self, "_handle"), *args])

    def _encode(self, value):
        return object.__getattribute__(self, "_peer").wire.encode(value)

    def __call__(self, *args, **kwargs):
        return self._ask("call", self._encode(list(args)), self._encode(kwargs))

    def __getattr__(self, name):
        return self._ask("getattr", name)

    def __setattr__(self, name, value):
        self._ask("setattr", name, self._encode(value))

    def __getitem__(self, key):
        return self._ask("getitem", self._encode(key))

    def __contains__(self, item):
        return self._ask("contains", self._encode(item))

    def __len__(self):
        return self._ask("unary", "len")

    def __bool__(self):
        return self._ask("unary", "bool")

    def __iter__(self):
        return self._ask("unary", "iter")

    def __next__(self):
        return self._ask("unary", "next")

    def __str__(self):
        return self._ask("unary", "str")

    def __repr__(self):
        return self._ask("unary", "repr")


class RemoteError(Exception):
    """Base of the stand-ins for exception classes the candidate defined."""


def rebuild_exception(message):
    """The candidate's exception, as the same builtin class where there is one."""
    _, name, builtin, args, text = (message + [None] * 5)[:5]
    if type(name) is not str or not name.isidentifier():
        raise TypeError("the program sent a malformed exception")
    cls = getattr(builtins, name, None) if builtin else None
    if not (isinstance(cls, type) and issubclass(cls, BaseException)) or cls in (SystemExit, KeyboardInterrupt, GeneratorExit):
        cls = type(name, (RemoteError,), {"__module__": "solution"})
    try:
        ex = cls(*args) if type(args) is list else cls()
    except BaseException:
        ex = cls(str(args))
    ex.candidate_traceback = text if type(text) is str else ""
    return ex


class CheckerPeer:
    """The checker's end: asks the candidate, and answers its callbacks (calls and `next`
    only, on objects the tests handed over: no attribute of the checker is reachable)."""

    def __init__(self, link):
        self.link = link
        self.wire = Wire(lambda handle: RemoteObject(self, handle))

    def ask(self, message):
        self.link.send(message)
        while True:
            message = self.link.receive()
            if type(message) is not list or not message:
                raise TypeError("the program sent a malformed answer")
            op_in = message[0]
            if op_in == "return" and len(message) == 2:
                return self.wire.decode(message[1])
            if op_in == "raise":
                raise rebuild_exception(message)
            if op_in in ("call", "next"):
                self.link.send(self.callback(op_in, message[1:]))
                continue
            raise TypeError("the program sent a malformed answer")

    def callback(self, op, args):
        try:
            target = self.wire.exports[args[0]]
            if op == "call":
                value = target(*self.wire.decode(args[1]), **dict(self.wire.decode(args[2])))
            else:
                value = next(target)
            return ["return", self.wire.encode(value)]
        except BaseException as ex:
            return ["raise", type(ex).__name__, getattr(builtins, type(ex).__name__, None) is type(ex),
                    safe_args(ex), "".join(traceback.format_exception_only(type(ex), ex))]


def free_names(tests, defined=()):
    """Names the tests read that neither they, `defined` (the prefix's names) nor builtins
    define. The grader computes it once per test source on the host (the tests part's
    ``names``, for `defined` empty: parsing the tests costs milliseconds per program)."""
    import ast

    try:
        tree = ast.parse(tests)
    except SyntaxError:
        return []
    bound, loads = set(defined) | set(dir(builtins)), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return sorted(loads - bound)


def bind_names(namespace, described, wanted, entry):
    """Bind the names the tests take from the candidate, as it described them, but only
    those asked for (never a builtin, the prefix's helpers or the tests' own names) and
    only in ways it cannot use to judge a test: the entry point as whatever it is; a
    standard module by name, imported afresh here; a capitalised name (a class the tests
    build objects of, e.g. MBPP's Node) as a handle; anything else is left unbound."""
    if type(described) is not dict:
        raise TypeError("the program sent a malformed answer")
    for name in wanted:
        kind, value = (described.get(name) or (None, None)) if type(described.get(name)) in (list, tuple) else (None, None)
        if kind == "module":
            namespace[name] = import_module(value)
        elif kind == "value" and (name == entry or name[:1].isupper()):
            namespace[name] = value


def import_module(name):
    """A standard module the candidate imported and the tests use (in-process they would share it)."""
    if type(name) is not str or name.partition(".")[0] not in sys.stdlib_module_names:
        raise TypeError("the program bound a test's name to a module the grader does not load")
    import importlib

    return importlib.import_module(name)


def format_failure(ex):
    """The traceback the refiner sees: the tests' frames, then the candidate's own."""
    frames = [f for f in traceback.extract_tb(ex.__traceback__) if f.filename in (TESTS_FILENAME, PREFIX_FILENAME)]
    head = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
    remote = getattr(ex, "candidate_traceback", None)
    if remote is not None:
        return head + remote
    return head + "".join(traceback.format_exception_only(type(ex), ex))


def register_source(filename, source):
    import linecache

    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def exit_description(status, out_of_cpu=False):
    """Error type and sentence for a candidate process that ended before the tests finished
    (`out_of_cpu`: it had spent its CPU budget, after which the sandbox kills it)."""
    if status is None:
        return "EarlyExit", "EarlyExit: the program closed the grader's channel before its tests finished.\n"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig in EXIT_SIGNAL_TIMEOUT or (sig == signal.SIGKILL and out_of_cpu):
            return "Timeout", "Timeout: the program used up its CPU time.\n"
        return "Killed", "Killed: the program was ended by signal %d before its tests finished.\n" % sig
    code = os.waitstatus_to_exitcode(status)
    return "EarlyExit", "EarlyExit: the program ended (exit code %s) before its tests finished.\n" % code


class Checker:
    def __init__(self, part, tests_size, isolation):
        self.part = part
        self.tests_size = tests_size
        self.isolation = isolation
        self.captures = {}
        self.streams = {}
        self.cpu = 0.0

    def start_candidate(self):
        parent, child = socket.socketpair()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        for fd in (out_r, err_r):
            widen(fd)
        self.pid = os.fork()
        if self.pid == 0:
            parent.close()
            candidate_main(child.detach(), out_w, err_w, self.part, self.isolation)
        child.close()
        os.close(out_w)
        os.close(err_w)
        self.streams = {"stdout": Capture(OUTPUT_CAP), "stderr": Capture(OUTPUT_CAP)}
        self.captures = {out_r: self.streams["stdout"], err_r: self.streams["stderr"]}
        self.sock = parent
        self.link = Link(parent.fileno(), self.captures)

    def run(self):
        self.start_candidate()
        if self.isolation is not None:
            self.isolation.checker()
        else:
            prctl(PR_SET_DUMPABLE, 0)  # the candidate (same user) cannot open our /proc files
        tests = json.loads(read_exact(0, self.tests_size))
        self.part = None
        try:
            verdict = self.check(tests)
        except CandidateEnded:
            verdict = self.ended()
        except TypeError as ex:  # the candidate broke the protocol before the tests started
            verdict = False, "TypeError", "TypeError: %s\n" % (ex,)
        return self.result(verdict)

    def check(self, tests):
        """Run the tests against the loaded candidate; (passed, error_type, feedback)."""
        peer = CheckerPeer(self.link)
        first = self.link.receive()
        if first != ["loaded"]:
            if type(first) is list and first[:1] == ["raise"]:
                ex = rebuild_exception(first)
                return False, type(ex).__name__, getattr(ex, "candidate_traceback", "")
            raise TypeError("the program sent a malformed answer")
        prefix, source, entry = tests.get("prefix") or "", tests["tests"], tests.get("entry_point")
        namespace = {"__name__": "__main__", "__builtins__": builtins}
        register_source(PREFIX_FILENAME, prefix)
        register_source(TESTS_FILENAME, source)
        try:
            exec(compile(prefix, PREFIX_FILENAME, "exec", dont_inherit=True), namespace)
            names = tests.get("names")
            if type(names) is not list:
                names = free_names(source)
            wanted = sorted({n for n in names if n not in namespace} | ({entry} if entry else set()))
            bind_names(namespace, peer.ask(["names", wanted]), wanted, entry)
            exec(compile(source, TESTS_FILENAME, "exec", dont_inherit=True), namespace)
        except CandidateEnded:
            raise
        except BaseException as ex:
            return False, type(ex).__name__, format_failure(ex)
        return True, None, ""

    def ended(self):
        status = self.reap(EXIT_GRACE_SECONDS)
        budget = getattr(self.isolation, "cpu_seconds", 0)
        error_type, sentence = exit_description(status, bool(budget) and self.cpu >= budget)
        return False, error_type, sentence

    def reap(self, grace):
        """The candidate's wait status, draining its output; None if it outlives `grace`."""
        import time

        deadline = time.monotonic() + grace
        while True:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid:
                self.cpu = usage.ru_utime + usage.ru_stime
                break
            left = deadline - time.monotonic()
            if left <= 0:
                try:
                    os.kill(self.pid, signal.SIGKILL)  # possible only without a sandbox user
                except OSError:
                    pass
                return None
            ready = select.select(list(self.captures), [], [], min(left, 0.05))[0] if self.captures else time.sleep(0.001)
            for fd in ready or ():
                drain(fd, self.captures)
        while self.captures:  # what the candidate (or a child of its) still has to say
            ready = select.select(list(self.captures), [], [], max(deadline - time.monotonic(), 0))[0]
            if not ready:
                break
            for fd in ready:
                drain(fd, self.captures)
        return status

    def result(self, verdict):
        passed, error_type, feedback = verdict
        if passed:  # the verdict is final: nothing the candidate does at exit is waited for
            try:
                os.kill(self.pid, signal.SIGKILL)  # possible only without a sandbox user (its killer's job then)
            except OSError:
                pass
        elif error_type not in ("EarlyExit", "Killed", "Timeout"):  # let it finish, for its output
            try:
                self.link.send(["exit"])
            except CandidateEnded:
                pass
            self.reap(EXIT_GRACE_SECONDS)
        return {
            "runner": VERSION,
            "passed": passed,
            "error_type": error_type,
            "feedback": feedback,
            "stdout": self.streams["stdout"].text(),
            "stderr": self.streams["stderr"].text(),
            "stdout_bytes": self.streams["stdout"].total,
            "stderr_bytes": self.streams["stderr"].total,
        }


def main(candidate, tests_size, isolation=None):
    """Grade `candidate` (the candidate part's bytes) with the tests part, `tests_size`
    bytes still on fd 0; write the result to fd 1. Never returns."""
    result_fd = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)  # nothing the tests print can touch the result
    os.close(null)
    try:
        part = json.loads(candidate)
        if part.get("backstop"):
            signal.alarm(int(part["backstop"]))  # a checker stuck on a huge value still ends
        result = Checker(part, tests_size, isolation).run()
    except BaseException as ex:  # the runner itself failed: never a pass
        result = {"runner": VERSION, "passed": False, "error_type": "GraderError",
                  "feedback": "the grader failed: %s: %s\n" % (type(ex).__name__, ex),
                  "stdout": "", "stderr": "", "stdout_bytes": 0, "stderr_bytes": 0}
    write_all(result_fd, json.dumps(result).encode())
    os.close(result_fd)  # the answer is complete: a sandbox may end this process now
    os._exit(0)
