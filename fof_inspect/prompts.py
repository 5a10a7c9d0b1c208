"""The prompt pools the pipeline search picks from, and the messages the nodes send.

The paper's search chooses each LLM node's system prompt from a small fixed pool
(3 generator, 2 analyzer, 3 refiner prompts) and never lets a model write prompts,
so the pools are plain data keyed by short names that genome files refer to. The
keys are part of the genome file format: rename one and saved genomes stop loading.

The prompts target 1-3B models: short, one job each, and every code-producing
prompt asks for the complete function in a single ```python block, since the
grader extracts one block and small models otherwise answer with a diff or prose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

__all__ = [
    "NodeKind",
    "NODE_KINDS",
    "GENERATOR_PROMPTS",
    "ANALYZER_PROMPTS",
    "REFINER_PROMPTS",
    "PROMPT_POOLS",
    "GENERATOR_TEMPLATE",
    "ANALYZER_TEMPLATE",
    "REFINER_TEMPLATE",
    "REFINER_TEMPLATE_WITH_ANALYSIS",
    "prompt_names",
    "system_prompt",
    "unknown_prompt_message",
    "refiner_message",
]

NodeKind = Literal["generator", "analyzer", "refiner"]
"""The LLM node types (the executor runs code and has no prompt)."""

NODE_KINDS: tuple[NodeKind, ...] = get_args(NodeKind)

_ANSWER_FORMAT = (
    "Reply with the complete function, including its signature and any imports, "
    "in one ```python code block."
)

GENERATOR_PROMPTS: dict[str, str] = {
    "plain": (
        "You are a Python programmer. Write a correct solution to the problem. "
        f"{_ANSWER_FORMAT} Do not add explanations, tests or example usage."
    ),
    "careful": (
        "You are a careful Python programmer. Before you write code, think about edge "
        "cases: empty inputs, zero, negative numbers, duplicates, and the exact type "
        "the function must return. Keep the function name and parameters exactly as "
        f"given. {_ANSWER_FORMAT}"
    ),
    "test_first": (
        "You are a Python programmer who checks work against examples. First read every "
        "example in the problem and note what each call must return. Then write a "
        f"function that gives exactly those results. {_ANSWER_FORMAT} "
        "Put no tests or prints outside the function."
    ),
}

ANALYZER_PROMPTS: dict[str, str] = {
    "diagnose": (
        "You are a Python debugging assistant. You are shown code that failed and the "
        "error it raised. In a few short sentences, say which line or piece of logic is "
        "wrong and why it causes this error. Do not rewrite the code."
    ),
    "explain_fix": (
        "You review failing Python code. Read the error, find its cause, then list the "
        "changes that fix it as short numbered steps, each one concrete (for example: "
        "'change range(n) to range(n + 1)'). Do not rewrite the whole function."
    ),
}

REFINER_PROMPTS: dict[str, str] = {
    "fix": (
        "You fix Python code. You get a problem, code that failed, and the error it "
        "produced. Correct the code so that it solves the problem and the error is gone. "
        f"{_ANSWER_FORMAT}"
    ),
    "rewrite": (
        "A previous attempt at this problem failed. Use the error to understand what went "
        "wrong, then write a new solution from scratch; a different approach is fine. "
        f"{_ANSWER_FORMAT}"
    ),
    "minimal_patch": (
        "You repair Python code with the smallest possible change. Fix only what causes "
        "the error and keep the names, signature and structure the same. Reply with the "
        "complete function, not just the changed lines, in one ```python code block."
    ),
}

PROMPT_POOLS: Mapping[NodeKind, Mapping[str, str]] = {
    "generator": GENERATOR_PROMPTS,
    "analyzer": ANALYZER_PROMPTS,
    "refiner": REFINER_PROMPTS,
}

# User-message templates (str.format fields: problem, code, feedback, analysis).
# Built from shared sections so the analyzer and both refiner variants show the
# failure in the same layout.
_PROBLEM = "## Problem\n{problem}\n\n"
_FAILURE = "## Code that failed\n```python\n{code}\n```\n\n## Error\n```\n{feedback}\n```\n\n"
_ANALYSIS = "## Analysis of the error\n{analysis}\n\n"
_ASK_ANALYSIS = "What is wrong with this code, and how should it be fixed?"
_ASK_FIX = "Write the corrected complete function in one ```python code block."

GENERATOR_TEMPLATE = "{problem}"
"""The sample's input already states the task and the answer format."""

ANALYZER_TEMPLATE = _PROBLEM + _FAILURE + _ASK_ANALYSIS
REFINER_TEMPLATE = _PROBLEM + _FAILURE + _ASK_FIX
REFINER_TEMPLATE_WITH_ANALYSIS = _PROBLEM + _FAILURE + _ANALYSIS + _ASK_FIX


def prompt_names(kind: NodeKind) -> tuple[str, ...]:
    """The keys of one node type's pool, in pool order (what genome files may use)."""
    return tuple(PROMPT_POOLS[kind])


def system_prompt(kind: NodeKind, name: str) -> str:
    """Look a prompt up, failing with the valid names rather than a bare KeyError."""
    try:
        return PROMPT_POOLS[kind][name]
    except KeyError:
        raise ValueError(unknown_prompt_message(kind, name)) from None


def unknown_prompt_message(kind: NodeKind, name: str) -> str:
    """One wording for a bad prompt key, wherever it is caught."""
    article = "an" if kind[0] in "aeiou" else "a"
    return f"{name!r} is not {article} {kind} prompt (choose from {', '.join(prompt_names(kind))})"


def refiner_message(problem: str, code: str, feedback: str, analysis: str | None = None) -> str:
    """The refiner's user message; the analysis section appears only if an analyzer ran."""
    if analysis:
        return REFINER_TEMPLATE_WITH_ANALYSIS.format(
            problem=problem, code=code, feedback=feedback, analysis=analysis
        )
    return REFINER_TEMPLATE.format(problem=problem, code=code, feedback=feedback)
