"""The solvers: one small Inspect @solver per node, composed into pipelines."""

from fof_inspect.solvers.reference import reference

__all__ = ["reference"]
