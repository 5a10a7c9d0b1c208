"""Inspect's own floor: a 1-sample task that does nothing, with no sandbox and no model.

    inspect eval bench/noop_task.py [-T samples=164]

What `inspect eval` costs before any grading (interpreter, imports, task loading, log
writing); bench/peers.py measures it beside the real evals.
"""

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import CORRECT, Score, Scorer, Target, accuracy, scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver


@solver
def nothing() -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        return state

    return solve


@scorer(metrics=[accuracy()])
def always() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        return Score(value=CORRECT)

    return score


@task
def noop(samples: int = 1) -> Task:
    """`-T samples=164`: Inspect's own cost per sample, without grading."""
    return Task(dataset=[Sample(id=i, input="nothing", target="") for i in range(samples)], solver=nothing(),
                scorer=always())
