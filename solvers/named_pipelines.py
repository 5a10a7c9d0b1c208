"""The paper's pipelines by name, as solvers: `--solver champion`, `--solver fof_inspect/self_refine`.

Each is `pipeline` with a genome file shipped in solvers/pipelines/.
"""

from __future__ import annotations

from collections.abc import Callable

from inspect_ai.model import CachePolicy
from inspect_ai.solver import Solver, solver

from fof_inspect.solvers.pipeline import pipeline


def _named(name: str) -> Callable[..., Solver]:
    def named_pipeline(early_stop: bool = True, feedback: str = "hidden", cache: bool | CachePolicy = False) -> Solver:
        return pipeline(genome=name, early_stop=early_stop, feedback=feedback, cache=cache)

    named_pipeline.__name__ = name
    named_pipeline.__doc__ = f"The `{name}` pipeline (solvers/pipelines/{name}.yaml)."
    return solver(name=name)(named_pipeline)


solo = _named("solo")
self_refine = _named("self_refine")
cross_model = _named("cross_model")
champion = _named("champion")
coder_self_refine = _named("coder_self_refine")
