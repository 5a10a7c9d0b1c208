"""The solvers: one small Inspect @solver per node, composed into pipelines."""

from fof_inspect.solvers.analyzer import analyzer
from fof_inspect.solvers.executor import executor
from fof_inspect.solvers.generator import generator
from fof_inspect.solvers.named_pipelines import champion, coder_self_refine, cross_model, self_refine, solo
from fof_inspect.solvers.pipeline import pipeline
from fof_inspect.solvers.reference import reference
from fof_inspect.solvers.refiner import refiner

__all__ = [
    "analyzer",
    "champion",
    "coder_self_refine",
    "cross_model",
    "executor",
    "generator",
    "pipeline",
    "reference",
    "refiner",
    "self_refine",
    "solo",
]
