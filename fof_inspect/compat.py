"""Every use of a private Inspect module, in one place.

Inspect's public API (`inspect_ai`, `inspect_ai.util`, `.model`, `.solver`, ...) covers
almost all of fof_inspect; the few things it does not export are reached here and only
here, each with why and what public API would replace it, so that a new Inspect release
can break at most this file (CI tests both ends of the supported inspect-ai range).
Nothing outside this module imports `inspect_ai._*` or `inspect_ai.<module>._*`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

# Why: Inspect's CLI and eval() print a PrerequisiteError as one line with no traceback
# (a missing sandbox image, Ollama down, a malformed genome), which is the house rule for
# bad input. It is not exported publicly (inspect_ai.util, inspect_ai.__init__: no).
# Replace with: a public export of the class (e.g. `inspect_ai.util.PrerequisiteError`).
from inspect_ai._util.error import PrerequisiteError

__all__ = ["PrerequisiteError", "clear_model_cache", "sandbox_self_checks"]


def sandbox_self_checks() -> dict[str, Callable[[Any], Awaitable[None]]]:
    """Inspect's sandbox conformance suite: check name -> `async check(sandbox_env)`.

    Why: the suite ships inside inspect_ai but only in a private module
    (`inspect_ai.util._sandbox.self_check`); providers (inspect-k8s-sandbox, ours) run
    it against themselves. Its module exports exactly its checks (`test_*`) in
    `__all__` (older releases: plain `test_*` functions beside a `self_check` runner).
    Replace with: a public conformance entry point, if Inspect ever exposes one.
    """
    from inspect_ai.util._sandbox import self_check as suite

    names = getattr(suite, "__all__", None) or [name for name in dir(suite) if name.startswith("test_")]
    return {name: getattr(suite, name) for name in names if name.startswith("test_")}


def clear_model_cache() -> None:
    """Forget the models `get_model()` memoised (tests only).

    Why: `get_model` memoises by name, config and explicit base URL, not by the
    `<PROVIDER>_BASE_URL` environment variable, so a test that starts a new fake server
    would otherwise talk to an earlier test's (stopped) one. Inspect has no public way
    to clear it. Replace with: `get_model(..., memoize=False)` where every model is made
    (not possible for role models resolved inside Inspect), or a public cache reset.
    """
    from inspect_ai.model import _model

    cache = getattr(_model, "_models", None)
    if isinstance(cache, dict):
        cache.clear()
