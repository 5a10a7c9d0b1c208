"""Limits of the Docker sandbox: one place, recorded in every log that uses it."""

from __future__ import annotations

from pydantic import BaseModel, Field

IMAGE = "fof-inspect-sandbox:latest"
"""The image `fof sandbox build` makes and the sandbox runs."""

SANDBOX_UID = 65534
"""`nobody`, present in both the python:3.x-slim image and a debootstrapped Debian: the candidate's uid."""
CHECKER_UID = 65533
"""The uid of the grader's checker process, which runs the benchmark's tests apart from the candidate
(no passwd entry needed); it never owns files or IPC objects."""
SANDBOX_UIDS = (SANDBOX_UID, CHECKER_UID)
"""Every uid untrusted or test code runs as: the clean-up kills and verifies them all."""
KILLER_UID = 65532
"""The real uid of the killer while it kills (with a sandbox uid as its effective one): a uid no
sandbox process has, so none of them can signal the killer back."""


class SandboxConfig(BaseModel, frozen=True):
    """Per-container and per-execution limits (the defaults are the hardened ones)."""

    image: str = IMAGE
    timeout: float = Field(default=10.0, gt=0, description="seconds per execution when the caller gives none")
    wall_factor: float = Field(
        default=3.0, ge=1.0,
        description="the grader's programs: `timeout` is a CPU-time budget per process, and this many times it "
        "the wall-clock backstop (for programs that sleep or block); other commands: `timeout` is wall clock",
    )
    max_wall_factor: float = Field(
        default=30.0, ge=1.0,
        description="the grader's programs: the backstop moves on by the time the machine's load kept a program "
        "waiting for a CPU, up to this many times `timeout`",
    )
    memory: str = Field(default="512m", description="container memory (and memory+swap) limit")
    memory_bytes: int = Field(default=512 * 1024**2, gt=0, description="address-space limit of each program")
    cpus: float = Field(default=1.0, gt=0)
    pids: int = Field(default=128, gt=8)
    tmp_size: str = Field(default="64m", description="size of the writable /tmp (counts against memory)")
    output_cap: int = Field(default=1024**2, gt=0, description="bytes kept of each of stdout and stderr (head and tail)")
    prestart: int = Field(default=0, ge=0, description="containers task_init starts before the first sample")
    max_containers: int | None = Field(
        default=None, ge=1,
        description="containers in use at once across the eval's tasks of this config (fof evolve sets it from "
        "--max-sandboxes); a sample waits in sample_init for one. Unset: one per running sample. Not with "
        "--no-sandbox-cleanup (samples then never give theirs back)",
    )
