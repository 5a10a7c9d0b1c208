"""Inspect's entry point: importing this registers every fof_inspect object by name."""

from fof_inspect.sandbox.provider import FofDockerSandbox  # noqa: F401
from fof_inspect.scorers.error_counts import error_counts  # noqa: F401
from fof_inspect.scorers.pass_at_1 import pass_at_1  # noqa: F401
from fof_inspect.solvers import *  # noqa: F401,F403
from fof_inspect.tasks.humaneval import humaneval  # noqa: F401
from fof_inspect.tasks.mbpp import mbpp  # noqa: F401
