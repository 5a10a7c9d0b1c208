"""A stdlib-only fake Ollama server for tests and offline benchmarks.

No real LLM can run on CI, yet the pipelines must be exercised through
Inspect's real ``ollama/`` provider over real HTTP (retries, timeouts,
connection limits and error mapping all live there). ``FakeOllama`` speaks
just enough of Ollama's OpenAI-compatible (``/v1/...``) and native
(``/api/...``) APIs for that, with a scripted "model", a per-completion
latency and an ``OLLAMA_NUM_PARALLEL``-like slot limit so that scheduling
and utilisation can be measured.

Typical use::

    with FakeOllama(lambda req: "42", models={"llama3.2:3b"}) as fake:
        os.environ["OLLAMA_BASE_URL"] = fake.base_url  # for Inspect
        os.environ["OLLAMA_HOST"] = fake.host  # for the `ollama` client
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeOllama", "Request", "Span", "ScriptError"]

OLLAMA_VERSION = "0.6.5"
"""Version reported by ``/api/version``; recent enough for the ``ollama`` client."""

# Body fields lifted into dedicated ``Request`` attributes; everything else
# ends up in ``Request.options``.
_OPENAI_KNOWN = {"model", "messages", "temperature", "max_tokens", "seed", "stream"}
_NATIVE_OPTION_KNOWN = {"temperature", "num_predict", "seed"}


def _text(content: Any) -> str:
    """Flatten OpenAI/Ollama message content (str or list of parts) to text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "\n".join(parts)
    return str(content)


def normalize_model(name: str) -> str:
    """Add ``:latest`` to an untagged name, as Ollama does when resolving models."""
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


def _estimate_tokens(text: str) -> int:
    """Cheap, deterministic token estimate (~4 chars a token) for ``usage``."""
    return max(1, (len(text) + 3) // 4) if text else 0


@dataclass(frozen=True)
class Request:
    """One chat request as the fake server received it (either API flavour)."""

    model: str
    """Model name exactly as sent (untagged names are not normalised here)."""
    messages: list[dict[str, Any]]
    temperature: float | None = None
    max_tokens: int | None = None
    """``max_tokens`` (OpenAI route) or ``options.num_predict`` (native route)."""
    seed: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    """Every other field; a nested ``options`` dict (native API, or passed via
    Inspect's ``extra_body``) is flattened in, so ``num_ctx`` is found here."""
    stream: bool = False
    route: str = "/v1/chat/completions"
    body: dict[str, Any] = field(default_factory=dict)
    """The raw JSON body, for anything the fields above do not cover."""
    received_at: float = 0.0
    """``time.monotonic()`` when the request arrived (before queueing for a slot)."""

    @property
    def system(self) -> str:
        """Text of all system messages, joined (empty if none)."""
        return "\n".join(
            _text(m.get("content")) for m in self.messages if m.get("role") == "system"
        )

    @property
    def last_user(self) -> str:
        """Text of the last user message (empty if none)."""
        for m in reversed(self.messages):
            if m.get("role") == "user":
                return _text(m.get("content"))
        return ""

    @property
    def prompt_text(self) -> str:
        """All message text concatenated; used for the ``prompt_tokens`` estimate."""
        return "\n".join(_text(m.get("content")) for m in self.messages)


@dataclass(frozen=True)
class Span:
    """Timing of one served completion, in ``time.monotonic()`` seconds."""

    model: str
    arrived: float
    """When the request arrived."""
    start: float
    """When it got a slot (so ``start - arrived`` is the queueing delay)."""
    end: float
    """When its response was complete."""
    ok: bool
    """False if the script raised (HTTP 500)."""

    @property
    def busy(self) -> float:
        """Seconds the request held a slot."""
        return self.end - self.start


class ScriptError(RuntimeError):
    """Raised by scripts that want a specific HTTP status instead of 500."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.status = status


class _Server(ThreadingHTTPServer):
    """Threading server that joins its handler threads on close (no leaks)."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, fake: "FakeOllama", address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    """Routes requests to the owning ``FakeOllama``.

    HTTP/1.0 (the default) closes the connection after every response, so no
    idle keep-alive connection can hold a handler thread and delay ``stop()``.
    """

    server: _Server
    server_version = "FakeOllama"
    timeout = 10  # socket read timeout: a silent client can't pin a thread forever

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence per-request logging (pytest output stays readable)."""

    # -- plumbing ---------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json; charset=utf-8")

    def send_text(self, status: int, text: str) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8")

    def start_stream(self, content_type: str) -> None:
        """Begin a close-delimited streaming body (SSE or NDJSON)."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()

    def read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw or b"{}")

    # -- verbs ------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802
        self.server.fake._dispatch(self, "GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self.server.fake._dispatch(self, "HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self.server.fake._dispatch(self, "POST")


class FakeOllama:
    """Fake Ollama server: scripted answers, latency, a parallel-slot limit, stats.

    Args:
        script: Maps each chat ``Request`` to the assistant's text. Raising
            makes the server answer HTTP 500 with the exception text
            (``ScriptError(msg, status)`` picks another status).
        models: The "pulled" models; untagged names mean ``name:latest``.
            Requests for any other model get Ollama's 404 "not found".
        latency: Seconds each completion holds its slot (simulated inference).
        parallel: Completions served at once (like ``OLLAMA_NUM_PARALLEL``);
            extra requests wait for a slot. ``None`` = unlimited.
        port: TCP port on 127.0.0.1; 0 picks a free one.
    """

    def __init__(
        self,
        script: Callable[[Request], str],
        models: Iterable[str] = ("llama3.2:3b",),
        latency: float = 0.0,
        parallel: int | None = None,
        port: int = 0,
    ) -> None:
        if parallel is not None and parallel < 1:
            raise ValueError("parallel must be >= 1 or None")
        self.script = script
        self.models: set[str] = {normalize_model(m) for m in models}
        self.latency = latency
        self.parallel = parallel
        self._port = port
        self._lock = threading.Lock()
        self._slots = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._requests: list[Request] = []
        self._spans: list[Span] = []
        self._loaded: dict[str, float] = {}  # model -> last used (wall clock)
        self._in_service = 0
        self._in_flight = 0
        self._max_in_service = 0
        self._max_in_flight = 0

    # -- lifecycle ----------------------------------------------------------
    def start(self) -> "FakeOllama":
        """Bind and serve in a background thread; returns self for chaining."""
        if self._server is not None:
            raise RuntimeError("FakeOllama already started")
        self._stopping.clear()
        self._server = _Server(self, ("127.0.0.1", self._port))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-ollama:{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and join every thread; in-flight latency waits end early."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        with self._slots:
            self._slots.notify_all()
        server.shutdown()
        server.server_close()  # joins handler threads (block_on_close)
        if thread is not None:
            thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> "FakeOllama":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (only meaningful once started)."""
        if self._server is None:
            raise RuntimeError("FakeOllama not started")
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """``http://127.0.0.1:PORT``: the value for ``OLLAMA_HOST`` / ``ollama.Client``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """``{host}/v1``: the value for ``OLLAMA_BASE_URL`` / ``--model-base-url``."""
        return f"{self.host}/v1"

    # -- records and statistics ----------------------------------------------
    @property
    def requests(self) -> list[Request]:
        """Snapshot of every chat request received, in arrival order.

        Includes requests rejected with 404/500, so tests can see what was asked.
        """
        with self._lock:
            return list(self._requests)

    @property
    def spans(self) -> list[Span]:
        """Snapshot of timings of completions that got a slot, in finish order."""
        with self._lock:
            return list(self._spans)

    @property
    def max_concurrency(self) -> int:
        """Most completions ever served at the same time (never above ``parallel``)."""
        with self._lock:
            return self._max_in_service

    @property
    def max_in_flight(self) -> int:
        """Most completion requests ever open at once, queued ones included."""
        with self._lock:
            return self._max_in_flight

    def window(self) -> tuple[float, float] | None:
        """``(first slot start, last end)`` over served completions, if any."""
        spans = self.spans
        if not spans:
            return None
        return min(s.start for s in spans), max(s.end for s in spans)

    def busy_fraction(self, n_slots: int | None = None) -> float:
        """Fraction of slot-time in use between the first start and the last end.

        ``n_slots`` defaults to ``parallel`` (or 1 if unlimited). 1.0 means the
        client kept every slot busy the whole time; lower means idle slots.
        """
        slots = n_slots if n_slots is not None else (self.parallel or 1)
        spans = self.spans
        if not spans:
            return 0.0
        start = min(s.start for s in spans)
        end = max(s.end for s in spans)
        if end <= start:
            return 0.0
        return sum(s.busy for s in spans) / (slots * (end - start))

    def reset(self) -> None:
        """Forget recorded requests and statistics (e.g. after a warm-up)."""
        with self._lock:
            self._requests.clear()
            self._spans.clear()
            self._max_in_service = self._in_service
            self._max_in_flight = self._in_flight

    # -- routing --------------------------------------------------------------
    def _dispatch(self, h: _Handler, verb: str) -> None:
        path = h.path.split("?", 1)[0].rstrip("/") or "/"
        try:
            if verb in ("GET", "HEAD"):
                if path == "/":
                    return h.send_text(200, "Ollama is running")
                if path == "/api/version":
                    return h.send_json(200, {"version": OLLAMA_VERSION})
                if path == "/api/tags":
                    return h.send_json(200, self._tags())
                if path == "/api/ps":
                    return h.send_json(200, self._ps())
                if path == "/v1/models":
                    return h.send_json(200, self._openai_models())
            elif verb == "POST":
                if path == "/v1/chat/completions":
                    return self._openai_chat(h)
                if path == "/api/chat":
                    return self._native_chat(h)
                if path == "/api/show":
                    return self._show(h)
            h.send_text(404, "404 page not found")
        except (BrokenPipeError, ConnectionResetError):
            pass  # client went away (e.g. its timeout fired); nothing to answer

    # -- native metadata ---------------------------------------------------------
    @staticmethod
    def _details(name: str) -> dict[str, Any]:
        """Plausible ``details`` block derived from the model name."""
        base, _, tag = name.partition(":")
        family = re.sub(r"[\d.]+$", "", base.rsplit("/", 1)[-1]) or base
        size = re.match(r"(\d+(?:\.\d+)?)b", tag)
        return {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": f"{size.group(1)}B" if size else "",
            "quantization_level": "Q4_K_M",
        }

    @staticmethod
    def _digest(name: str) -> str:
        return hashlib.sha256(name.encode()).hexdigest()

    @staticmethod
    def _size(name: str) -> int:
        """Fake on-disk size: ~0.6 GB per billion parameters, if the tag says."""
        m = re.search(r":(\d+(?:\.\d+)?)b", name)
        return int(float(m.group(1)) * 6e8) if m else 1_000_000_000

    def _tags(self) -> dict[str, Any]:
        now = datetime.now(timezone.utc).isoformat()
        return {
            "models": [
                {
                    "name": m,
                    "model": m,
                    "modified_at": now,
                    "size": self._size(m),
                    "digest": self._digest(m),
                    "details": self._details(m),
                }
                for m in sorted(self.models)
            ]
        }

    def _ps(self) -> dict[str, Any]:
        with self._lock:
            loaded = dict(self._loaded)
        expires = (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat()
        return {
            "models": [
                {
                    "name": m,
                    "model": m,
                    "size": self._size(m),
                    "digest": self._digest(m),
                    "details": self._details(m),
                    "expires_at": expires,
                    "size_vram": self._size(m),
                    "context_length": 4096,
                }
                for m in sorted(loaded)
            ]
        }

    def _openai_models(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {
                    "id": m,
                    "object": "model",
                    "created": int(time.time()),
                    "owned_by": "library",
                }
                for m in sorted(self.models)
            ],
        }

    def _show(self, h: _Handler) -> None:
        body = self._read_body(h, native=True)
        if body is None:
            return
        name = str(body.get("model") or body.get("name") or "")
        if normalize_model(name) not in self.models:
            return h.send_json(404, {"error": f"model '{name}' not found"})
        details = self._details(normalize_model(name))
        family = details["family"]
        h.send_json(
            200,
            {
                "license": "",
                "modelfile": f"# Modelfile generated by FakeOllama\nFROM {name}\n",
                "parameters": 'stop "<|eot_id|>"',
                "template": "{{ .Prompt }}",
                "details": details,
                "model_info": {
                    "general.architecture": family,
                    "general.parameter_count": self._size(name),
                    f"{family}.context_length": 131072,
                },
                "capabilities": ["completion"],
                "modified_at": datetime.now(timezone.utc).isoformat(),
            },
        )

    # -- chat ---------------------------------------------------------------------
    def _read_body(self, h: _Handler, native: bool) -> dict[str, Any] | None:
        """Parse the JSON body, answering 400 (in the route's error shape) if bad."""
        try:
            body = h.read_json()
            if not isinstance(body, dict):
                raise ValueError("request body must be a JSON object")
            return body
        except ValueError as ex:
            self._send_error(h, 400, f"invalid request: {ex}", native)
            return None

    @staticmethod
    def _send_error(h: _Handler, status: int, message: str, native: bool) -> None:
        """Errors in the shape real Ollama uses on each API flavour."""
        if native:
            h.send_json(status, {"error": message})
        else:
            kind = "invalid_request_error" if status == 400 else "api_error"
            h.send_json(
                status,
                {"error": {"message": message, "type": kind, "param": None, "code": None}},
            )

    def _parse(self, body: dict[str, Any], route: str, arrived: float) -> Request:
        native = route == "/api/chat"
        messages = body.get("messages")
        if not isinstance(body.get("model"), str) or not body["model"]:
            raise ValueError("model is required")
        if not isinstance(messages, list):
            raise ValueError("messages must be a list")
        if native:
            opts = dict(body.get("options") or {})
            skip = ("model", "messages", "options", "stream")
            other = {k: v for k, v in body.items() if k not in skip}
            other.update({k: v for k, v in opts.items() if k not in _NATIVE_OPTION_KNOWN})
            temperature, max_tokens, seed = (
                opts.get("temperature"),
                opts.get("num_predict"),
                opts.get("seed"),
            )
            stream = bool(body.get("stream", True))  # native default is streaming
        else:
            other = {k: v for k, v in body.items() if k not in _OPENAI_KNOWN}
            nested = other.pop("options", None)
            if isinstance(nested, dict):
                other.update(nested)
            elif nested is not None:
                other["options"] = nested
            temperature, max_tokens, seed = (
                body.get("temperature"),
                body.get("max_tokens", body.get("max_completion_tokens")),
                body.get("seed"),
            )
            stream = bool(body.get("stream", False))
        return Request(
            model=body["model"],
            messages=messages,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            options=other,
            stream=stream,
            route=route,
            body=body,
            received_at=arrived,
        )

    def _complete(self, req: Request) -> tuple[int, str]:
        """Queue for a slot, simulate inference, run the script.

        Returns ``(status, text)``: 200 with the answer, or an error status with
        the message. Records timing whatever the outcome.
        """
        with self._slots:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            while (
                self.parallel is not None
                and self._in_service >= self.parallel
                and not self._stopping.is_set()
            ):
                self._slots.wait(0.1)
            self._in_service += 1
            self._max_in_service = max(self._max_in_service, self._in_service)
            self._loaded[normalize_model(req.model)] = time.time()
        start = time.monotonic()
        status, text = 200, ""
        try:
            if self.latency > 0:
                self._stopping.wait(self.latency)
            text = self.script(req)
            if not isinstance(text, str):
                raise TypeError(f"script must return str, got {type(text).__name__}")
        except ScriptError as ex:
            status, text = ex.status, str(ex)
        except Exception as ex:  # noqa: BLE001 - any script failure becomes a 500
            status = 500
            text = f"{type(ex).__name__}: {ex}"
            traceback.print_exc()
        finally:
            end = time.monotonic()
            with self._slots:
                self._in_service -= 1
                self._in_flight -= 1
                self._spans.append(
                    Span(req.model, req.received_at, start, end, ok=status == 200)
                )
                self._slots.notify()
        return status, text

    def _chat(self, h: _Handler, route: str) -> Request | None:
        """Shared front half of both chat routes: parse, record, check model."""
        native = route == "/api/chat"
        arrived = time.monotonic()
        body = self._read_body(h, native)
        if body is None:
            return None
        try:
            req = self._parse(body, route, arrived)
        except ValueError as ex:
            self._send_error(h, 400, str(ex), native)
            return None
        with self._lock:
            self._requests.append(req)
        if normalize_model(req.model) not in self.models:
            if native:
                msg = f"model '{req.model}' not found"
            else:
                msg = f'model "{req.model}" not found, try pulling it first'
            self._send_error(h, 404, msg, native)
            return None
        return req

    def _openai_chat(self, h: _Handler) -> None:
        req = self._chat(h, "/v1/chat/completions")
        if req is None:
            return
        status, text = self._complete(req)
        if status != 200:
            return self._send_error(h, status, text, native=False)
        cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        created = int(time.time())
        prompt_tokens = _estimate_tokens(req.prompt_text)
        completion_tokens = _estimate_tokens(text)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        base = {
            "id": cid,
            "created": created,
            "model": req.model,
            "system_fingerprint": "fp_ollama",
        }
        if not req.stream:
            return h.send_json(
                200,
                base
                | {
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                },
            )
        # Server-sent events, as Ollama streams them.
        h.start_stream("text/event-stream")

        def event(obj: dict[str, Any]) -> None:
            h.wfile.write(f"data: {json.dumps(obj)}\n\n".encode())
            h.wfile.flush()

        chunk = base | {"object": "chat.completion.chunk"}
        for i, piece in enumerate(_pieces(text)):
            delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            event(chunk | {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        event(chunk | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (req.options.get("stream_options") or {}).get("include_usage"):
            event(chunk | {"choices": [], "usage": usage})
        h.wfile.write(b"data: [DONE]\n\n")
        h.wfile.flush()

    def _native_chat(self, h: _Handler) -> None:
        req = self._chat(h, "/api/chat")
        if req is None:
            return
        status, text = self._complete(req)
        if status != 200:
            return self._send_error(h, status, text, native=True)
        ns = int(max(self.latency, 0.001) * 1e9)
        final = {
            "model": req.model,
            "created_at": datetime.now(timezone.utc).isoformat(),
            "message": {"role": "assistant", "content": text},
            "done_reason": "stop",
            "done": True,
            "total_duration": ns,
            "load_duration": 0,
            "prompt_eval_count": _estimate_tokens(req.prompt_text),
            "prompt_eval_duration": ns // 10,
            "eval_count": _estimate_tokens(text),
            "eval_duration": ns - ns // 10,
        }
        if not req.stream:
            return h.send_json(200, final)
        h.start_stream("application/x-ndjson")
        for piece in _pieces(text):
            line = {
                "model": req.model,
                "created_at": final["created_at"],
                "message": {"role": "assistant", "content": piece},
                "done": False,
            }
            h.wfile.write(json.dumps(line).encode() + b"\n")
        final["message"] = {"role": "assistant", "content": ""}
        h.wfile.write(json.dumps(final).encode() + b"\n")
        h.wfile.flush()


def _pieces(text: str, size: int = 16) -> Iterator[str]:
    """Split text into stream deltas (at least one, even for empty text)."""
    if not text:
        yield ""
        return
    for i in range(0, len(text), size):
        yield text[i : i + size]
