"""Scripted model behaviour for the fake Ollama server: answers chosen from the request.

A request is identified by its node type (from the system prompt, which comes from the
prompt pools) and by the problem it is about; `Script` counts the calls per (node, problem),
so a test can say "the generator answers wrong, the first refiner call fixes it".
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from support.fake_ollama import Request
from fof_inspect.prompts import PROMPT_POOLS


def node_kind(request: Request) -> str:
    for kind, pool in PROMPT_POOLS.items():
        if request.system in pool.values():
            return kind
    return "unknown"


def fenced(code: str) -> str:
    return f"Sure! Here is the function:\n```python\n{code}\n```"


class Script:
    """`answer(kind, problem, n)` → text, where n counts that node's calls for the problem."""

    def __init__(self, problems: list[str], answer: Callable[[str, str, int], str]) -> None:
        self.problems = problems
        self.answer = answer
        self.calls: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> str:
        kind = node_kind(request)
        text = request.last_user
        problem = next((p for p in self.problems if p in text), "?")
        with self.lock:
            self.calls[kind, problem] += 1
            n = self.calls[kind, problem]
        return self.answer(kind, problem, n)
