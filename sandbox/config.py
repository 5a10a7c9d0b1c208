"""Limits of the Docker sandbox: one place, recorded in every log that uses it."""

from __future__ import annotations

from pydantic import BaseModel, Field

IMAGE = "fof-inspect-sandbox:latest"
"""The image `fof sandbox build` makes and the sandbox runs."""

SANDBOX_UID = 65534
"""`nobody`, present in both the python:3.x-slim image and a debootstrapped Debian."""


class SandboxConfig(BaseModel, frozen=True):
    """Per-container and per-execution limits (the defaults are the hardened ones)."""

    image: str = IMAGE
    timeout: float = Field(default=10.0, gt=0, description="wall-clock seconds per execution when the caller gives none")
    memory: str = Field(default="512m", description="container memory (and memory+swap) limit")
    memory_bytes: int = Field(default=512 * 1024**2, gt=0, description="address-space limit of each program")
    cpus: float = Field(default=1.0, gt=0)
    pids: int = Field(default=128, gt=8)
    tmp_size: str = Field(default="64m", description="size of the writable /tmp (counts against memory)")
    output_cap: int = Field(default=1024**2, gt=0, description="bytes kept of each of stdout and stderr (head and tail)")
    prestart: int = Field(default=0, ge=0, description="containers task_init starts before the first sample")
