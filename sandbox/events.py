"""The transcript event of a program run on the fast path.

Inspect logs a SandboxEvent (command, input, exit code, output) for every `exec`
through the proxy it wraps around each sandbox; `run_python` is not an `exec`, so it
records the same event itself, and a log reads the same whichever path graded it.
Inspect has no public hook for this, hence the private imports (Inspect is pinned).
"""

from __future__ import annotations

from datetime import datetime, timezone

from inspect_ai.event import SandboxEvent
from inspect_ai.log import transcript
from inspect_ai.log._samples import sample_active
from inspect_ai.util import ExecResult
from inspect_ai.util._sandbox.events import content_display


def record_exec(cmd: str, input: str, timeout: float, result: ExecResult[str], started: datetime) -> None:
    """Log what the proxy would log for `exec(cmd, input, timeout)`; nothing outside a sample."""
    if sample_active() is None:
        return
    output = f"{result.stderr}\n\n{result.stdout}" if result.stderr else result.stdout
    transcript()._event(
        SandboxEvent(
            timestamp=started,
            action="exec",
            cmd=cmd,
            input=content_display(input),
            options={"timeout": timeout},
            result=result.returncode,
            output=content_display(output),
            completed=datetime.now(timezone.utc),
        )
    )
