"""A request/response channel to a long-lived process in a container.

The process is a ``docker exec`` with stdin attached; the host keeps the exec's hijacked
socket open and exchanges frames (a 4-byte big-endian length, then UTF-8 JSON) with it:
ours go straight to the process's stdin, its answers come back inside Docker's
multiplexed stdout stream. One exec serves any number of requests, which is what makes
a warm server cheaper per request than an exec each time.

Any failure - the process exits, the container dies, an answer is late or a caller
is cancelled mid-request - leaves the channel `broken` for good: an answer that may
still arrive would be out of step with the next request.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

from fof_inspect.sandbox.engine import engine, hang_up

STDOUT = 1
HEADER = 8  # Docker's multiplexing header: stream, 3 zero bytes, 4-byte big-endian size
READ_SIZE = 1 << 18
STDERR_KEPT = 4000


class ChannelBroken(Exception):
    """The process behind a channel is gone or out of step; its answer, if any, is lost."""


class Channel:
    """Frames to and from one process started with `Channel.open`."""

    def __init__(self, exec_id: str, conn: Any) -> None:
        self.exec_id = exec_id
        self._conn = conn  # keeps the HTTP response, and so the socket, alive
        self._sock = getattr(conn, "_sock", conn)
        self._native = type(self._sock) is socket.socket  # else (TLS, ssh) blocking reads in a thread
        if self._native:
            self._sock.setblocking(False)
        self._raw = bytearray()  # Docker's stream, not yet demultiplexed
        self._out = bytearray()  # the process's stdout, not yet a whole frame
        self._err = bytearray()  # the tail of its stderr, to say why it died
        self.broken = False
        self.hello: dict[str, Any] = {}
        """The process's answer to {"op": "hello"} (the server: its pid and Python version)."""

    @classmethod
    async def open(cls, container_id: str, cmd: list[str], env: dict[str, str], timeout: float) -> Channel:
        """Start `cmd` as root and check that it answers {"op": "hello"} within `timeout`."""

        def start() -> tuple[str, Any]:
            api = engine().api
            exec_id = api.exec_create(
                container_id, cmd, stdin=True, stdout=True, stderr=True, user="0", environment=env
            )["Id"]
            return exec_id, api.exec_start(exec_id, socket=True)

        channel = cls(*await asyncio.to_thread(start))
        channel.hello = await channel.request({"op": "hello"}, timeout)
        return channel

    async def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send `message`, return the answer; ChannelBroken if there will be none."""
        if self.broken:
            raise ChannelBroken("the channel broke earlier")
        body = json.dumps(message).encode()
        try:
            async with asyncio.timeout(timeout):
                await self._send(len(body).to_bytes(4, "big") + body)
                while (answer := self._next_frame()) is None:
                    chunk = await self._recv()
                    if not chunk:
                        raise ChannelBroken(f"the process exited{self._said()}")
                    self._raw += chunk
        except ChannelBroken:
            self.close()
            raise
        except TimeoutError:
            self.close()
            raise ChannelBroken(f"no answer within {timeout:g} s{self._said()}") from None
        except (OSError, ValueError) as ex:
            self.close()
            raise ChannelBroken(f"{type(ex).__name__}: {ex}{self._said()}") from ex
        except BaseException:  # cancelled mid-request: the answer would come to the next one
            self.close()
            raise
        return answer

    def alive(self) -> bool:
        """False if the channel broke or the process is seen to have exited while idle:
        checked before a request, so that it is restarted rather than the request failing."""
        if self._native and not self.broken:
            try:
                chunk = self._sock.recv(READ_SIZE)
            except BlockingIOError:
                return True
            except OSError:
                chunk = b""
            if not chunk:
                self.close()
            self._raw += chunk  # stderr, or a frame nobody asked for (caught by _next_frame)
        return not self.broken

    def close(self) -> None:
        """Hang up: the process sees EOF on stdin (the server then exits)."""
        self.broken = True
        hang_up(self._conn)

    # ---- plumbing ---------------------------------------------------------------

    async def _send(self, data: bytes) -> None:
        if self._native:
            await asyncio.get_running_loop().sock_sendall(self._sock, data)
        else:
            await asyncio.to_thread(self._sock.sendall, data)

    async def _recv(self) -> bytes:
        if self._native:
            return await asyncio.get_running_loop().sock_recv(self._sock, READ_SIZE)
        return await asyncio.to_thread(self._sock.recv, READ_SIZE)

    def _next_frame(self) -> dict[str, Any] | None:
        """Demultiplex what arrived; the next whole frame of stdout, if there is one."""
        pos = 0
        while len(self._raw) - pos >= HEADER:
            size = int.from_bytes(self._raw[pos + 4 : pos + HEADER], "big")
            end = pos + HEADER + size
            if end > len(self._raw):
                break
            target = self._out if self._raw[pos] == STDOUT else self._err
            target += self._raw[pos + HEADER : end]
            pos = end
        del self._raw[:pos]
        del self._err[:-STDERR_KEPT]
        if len(self._out) < 4:
            return None
        size = int.from_bytes(self._out[:4], "big")
        if len(self._out) < 4 + size:
            return None
        frame = json.loads(self._out[4 : 4 + size])
        del self._out[: 4 + size]
        if self._out:
            raise ChannelBroken("the process answered more than it was asked")
        return frame

    def _said(self) -> str:
        text = self._err.decode(errors="replace").strip()
        return f"; it said: {text[-STDERR_KEPT:]}" if text else ""
