"""`--solver champion` as the README writes it, through Inspect's public registry rule.

Inspect registers a `@solver` under its bare name when the function is defined in a file
that is not part of an installed package - a task file given to `inspect eval` by path -
and as `fof_inspect/<name>` when it is defined in this package. So each task file makes
thin `@solver` wrappers of the solvers a user names on the command line, defined in the
task file's own module: `inspect eval tasks/humaneval.py --solver champion` then finds
`champion`. Imported as part of the package (`fof_inspect.tasks.humaneval`, e.g. through
Inspect's entry point) a task file adds nothing: there the solvers are
`fof_inspect/<name>` already (`--solver fof_inspect/champion` works from any task).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from inspect_ai.solver import Solver, solver

from fof_inspect.solvers import champion, coder_self_refine, cross_model, pipeline, reference, self_refine, solo

CLI_SOLVERS: dict[str, Callable[..., Solver]] = {
    "solo": solo,
    "self_refine": self_refine,
    "cross_model": cross_model,
    "champion": champion,
    "coder_self_refine": coder_self_refine,
    "pipeline": pipeline,
    "reference": reference,
}
"""The solvers the README names bare (`--solver champion`, `--solver pipeline -S genome=...`)."""


def bare_solvers(module: str) -> dict[str, Callable[..., Solver]]:
    """Thin `@solver` wrappers of CLI_SOLVERS defined in `module` (a task file's `__name__`);
    none when `module` is part of the fof_inspect package."""
    if module.split(".")[0] == "fof_inspect":
        return {}
    return {name: _thin_solver(name, factory, module) for name, factory in CLI_SOLVERS.items()}


def _thin_solver(name: str, factory: Callable[..., Solver], module: str) -> Callable[..., Solver]:
    def thin(*args: object, **kwargs: object) -> Solver:
        return factory(*args, **kwargs)

    functools.update_wrapper(thin, factory)  # its signature: Inspect records the -S arguments by it
    thin.__module__ = module  # defined in the task file, so Inspect registers it under the bare name
    return solver(name=name)(thin)
