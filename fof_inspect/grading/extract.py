"""Pull Python code out of chat completions.

Small local models wrap code in every imaginable way: fenced or not, with prose
around it, several drafts, reasoning blocks, or only a function body. The grader
needs one piece of code, so this module picks the most plausible one and returns
None when the completion holds no code at all (so the caller can score it as a
format failure rather than a runtime error).
"""

from __future__ import annotations

import ast
import codeop
import re
import textwrap
import warnings
from dataclasses import dataclass

__all__ = ["defines_function", "extract_code", "parse_quietly"]

# Fence info strings that mean "this is Python" ("" is a bare fence).
_PYTHON_LANGS = frozenset({"", "python", "py", "python3", "py3", "python2", "ipython", "pycon"})

_FENCE_OPEN = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+#.-]*)[^`]*$")
_THINK_BLOCK = re.compile(r"<think(?:ing)?>.*?</think(?:ing)?>", re.DOTALL | re.IGNORECASE)
_THINK_OPEN = re.compile(r"<think(?:ing)?>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think(?:ing)?>", re.IGNORECASE)

# Lines that can start an unfenced code span (statements, indented body lines,
# decorators, comments); `_could_start_code` then weeds out prose.
_CODE_START = re.compile(r"^(\s+\S|[A-Za-z_@#(\[])")

# An unparsable block still counts as an answer (its SyntaxError is useful feedback)
# only if some line is unmistakably Python.
_UNMISTAKABLE_CODE = re.compile(
    r"^\s*((async\s+)?def\s+\w+\s*\(|class\s+\w+|return\b|import\s+\w|from\s+\S+\s+import\b)", re.MULTILINE
)

# The unfenced search parses many candidate spans; on runaway completions it stops
# after parsing this many characters in total, keeping what it found so far.
_UNFENCED_PARSE_BUDGET = 2_000_000


@dataclass(frozen=True)
class _Candidate:
    """A piece of text that might be the answer, with what we learned about it."""

    code: str
    parses: bool
    defines_entry: bool

    @property
    def size(self) -> int:
        return len(self.code.strip())


def parse_quietly(source: str, mode: str = "exec") -> ast.AST:
    """ast.parse without SyntaxWarning/DeprecationWarning noise (e.g. "\\d" in a plain string),
    which model and dataset code trigger all the time."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return ast.parse(source, mode=mode)


def defines_function(code: str, name: str) -> bool:
    """True if `code` has a top-level `def name` (sync or async); False on SyntaxError."""
    try:
        tree = parse_quietly(code)
    except (SyntaxError, ValueError):
        return False
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name
        for node in tree.body  # type: ignore[attr-defined]
    )


def extract_code(completion: str, entry_point: str | None = None) -> str | None:
    """Return the Python code a completion offers as its answer, or None if there is none.

    Preference: fenced blocks (the one defining `entry_point`, else the longest that
    parses), then the largest parsing span of unfenced lines. A body-only answer
    (indented lines, no `def`) is returned with its indentation, because the grader
    prepends the prompt's signature.
    """
    if not completion:
        return None
    text = _strip_reasoning(completion).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return None
    python_blocks = [code for lang, code in _fenced_blocks(text) if _is_python_lang(lang)]
    fenced = _choose(python_blocks, entry_point, allow_unparsed=True)
    if fenced is not None and (fenced.defines_entry or not entry_point):
        return fenced.code
    # The function may sit outside the fences (fences holding only a usage example)
    # or in a fence with another language tag.
    unfenced = _choose(_unfenced_spans(_remove_fence_markers(text)), entry_point, allow_unparsed=False)
    if unfenced is not None and (fenced is None or unfenced.defines_entry):
        return unfenced.code
    return fenced.code if fenced is not None else None


def _strip_reasoning(text: str) -> str:
    """Drop <think> blocks: reasoning drafts are not the answer.

    An unclosed <think> means the model never reached its answer, so everything after
    it goes; a lone </think> (template ate the opening tag) drops everything before it.
    """
    text = _THINK_BLOCK.sub("", text)
    opened = _THINK_OPEN.search(text)
    if opened:
        text = text[: opened.start()]
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        text = text[closes[-1].end() :]
    return text


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, code) for each fenced block; an unterminated fence runs to the end."""
    blocks: list[tuple[str, str]] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        opened = _FENCE_OPEN.match(lines[i])
        if not opened:
            i += 1
            continue
        fence, lang = opened["fence"], opened["lang"].lower()
        body: list[str] = []
        i += 1
        while i < len(lines):
            line = lines[i]
            stripped = line.strip()
            if stripped.startswith(fence) and not stripped.lstrip(fence[0]).strip():
                i += 1
                break
            reopened = _FENCE_OPEN.match(line)
            if reopened and reopened["lang"]:
                break  # a new ```python while open: the model forgot to close; reparse here
            if stripped.endswith(fence) and not stripped.startswith(fence[0]):
                body.append(line.rstrip()[: -len(fence)])  # closing fence glued to the last code line
                i += 1
                break
            body.append(line)
            i += 1
        code = _tidy("\n".join(body))
        if code:
            blocks.append((lang, code))
    return blocks


def _is_python_lang(lang: str) -> bool:
    return lang in _PYTHON_LANGS or lang.startswith("python")


def _remove_fence_markers(text: str) -> str:
    """Text with fence marker lines removed, for the unfenced fallback."""
    return "\n".join(line for line in text.split("\n") if not _FENCE_OPEN.match(line))


def _tidy(code: str) -> str:
    """Drop blank lines at both ends and trailing spaces, keep the first line's indentation."""
    lines = [line.rstrip() for line in code.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _parse(code: str) -> ast.Module | None:
    """Parse as a module, or as a function body (indented or not); None if neither works."""
    return _parse_with_error_line(code)[0]


def _parse_with_error_line(code: str) -> tuple[ast.Module | None, int]:
    """Like `_parse`, plus the 1-based line of the syntax error (0 when it parsed).

    The error line lets the unfenced search skip every span that contains it.
    """
    for attempt in (code, textwrap.dedent(code)):
        try:
            return parse_quietly(attempt), 0  # type: ignore[return-value]
        except (SyntaxError, ValueError):
            pass
    try:
        wrapped = parse_quietly("def _body():\n" + textwrap.indent(textwrap.dedent(code), "    "))
    except SyntaxError as err:
        return None, max((err.lineno or 1) - 1, 1)
    except ValueError:
        return None, 1
    body = ast.Module(body=wrapped.body[0].body, type_ignores=[])  # type: ignore[attr-defined]
    return ast.increment_lineno(body, -1), 0  # line numbers of `code`, not of the wrapper


def _is_code_statement(node: ast.stmt) -> bool:
    """A real statement or a call; bare values (`Sure`, `42`, `[1, 2]`) are prose or output."""
    return not isinstance(node, ast.Expr) or isinstance(node.value, (ast.Call, ast.Await))


def _is_code_like(tree: ast.Module) -> bool:
    return any(_is_code_statement(node) for node in tree.body)


def _candidate(code: str, entry_point: str | None) -> _Candidate:
    tree = _parse(code)
    parses = tree is not None and _is_code_like(tree)
    if not entry_point:
        return _Candidate(code=code, parses=parses, defines_entry=False)
    if tree is not None:
        defines = defines_function(textwrap.dedent(code), entry_point)
    else:  # broken code still counts as an attempt at the function
        defines = re.search(rf"^\s*(async\s+)?def\s+{re.escape(entry_point)}\s*\(", code, re.MULTILINE) is not None
    return _Candidate(code=code, parses=parses, defines_entry=defines)


def _choose(codes: list[str], entry_point: str | None, *, allow_unparsed: bool) -> _Candidate | None:
    """Pick the answer among candidates.

    The last block defining the entry point wins (later blocks are usually the
    corrected version); else the longest that parses; else, for fenced code only,
    the longest block, so a syntax error reaches the grader as feedback.
    """
    candidates = [_candidate(code, entry_point) for code in codes if code.strip()]
    defining = [c for c in candidates if c.defines_entry]
    if defining:
        parsing = [c for c in defining if c.parses]
        return (parsing or defining)[-1]
    parsing = [c for c in candidates if c.parses]
    if parsing:
        return max(parsing, key=lambda c: c.size)
    codey = [c for c in candidates if _UNMISTAKABLE_CODE.search(c.code)]
    if allow_unparsed and codey:
        return max(codey, key=lambda c: c.size)
    return None


def _unfenced_spans(text: str) -> list[str]:
    """Maximal line spans that parse as code, found by trimming prose from both ends."""
    lines = text.split("\n")
    budget = [_UNFENCED_PARSE_BUDGET]
    spans: list[str] = []
    i = 0
    while i < len(lines) and budget[0] > 0:
        if not lines[i].strip() or not _CODE_START.match(lines[i]) or not _could_start_code(lines[i]):
            i += 1
            continue
        found = _longest_parsing_span(lines, i, budget)
        if found is None:
            i += 1
            continue
        first, end = found
        spans.append(_tidy("\n".join(lines[first:end])))
        i = end
    return spans


def _could_start_code(line: str) -> bool:
    """Cheap one-line check (complete or unfinished statement, at top level or in a body).

    Rejects most prose lines before the costly search over every possible end.
    """
    stripped = line.strip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. SyntaxWarning for `x is 1`
        for source in (stripped, "def _body():\n    " + stripped):
            try:
                codeop.compile_command(source + "\n", symbol="exec")
                return True
            except (SyntaxError, ValueError, OverflowError):
                pass
    return False


def _longest_parsing_span(lines: list[str], start: int, budget: list[int]) -> tuple[int, int] | None:
    """(first, end) of the largest code-like span beginning at `start`, or None.

    Tries ends from the bottom up; a syntax error on line k rules out every end past
    k (same tokens up to the error), so the search jumps there. Bare names and
    values at either edge (`Sure`, `Output`) are prose and are cut off.
    `budget` holds the characters still allowed to be parsed and is spent here.
    """
    end = len(lines)
    while end > start and budget[0] > 0:
        if not lines[end - 1].strip():
            end -= 1
            continue
        code = "\n".join(lines[start:end])
        budget[0] -= len(code)
        tree, error_line = _parse_with_error_line(code)
        if tree is None:
            end = min(end - 1, start + error_line)
            continue
        kept = [node for node in tree.body if _is_code_statement(node)]
        if not kept:
            return None
        first_line = min(n.lineno for n in ast.walk(kept[0]) if isinstance(n, (ast.stmt, ast.expr)))  # decorators
        return start + first_line - 1, start + (kept[-1].end_lineno or end - start)
    return None
