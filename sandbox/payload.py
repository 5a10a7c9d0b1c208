"""The Python source the host hands to ``python3 -I -c`` in a container.

The in-container programs (incontainer/supervisor.py, incontainer/server.py) share
incontainer/jail.py, but the image holds no code of ours, so each is sent with jail.py's
source in front, registered as the module `fof_jail` for their ``from fof_jail import ...``;
the grading runner (fof_inspect/grading/runner.py) goes along as `fof_runner`, with its
exact source as `fof_runner.SOURCE`, so the server can tell a request that brings the
same runner. They are package data, not modules of this package: they need a container
(root, the sandbox uids) and start only as ``__main__``, so importing
fof_inspect.sandbox never runs them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fof_inspect.grading.command import runner_source

IN_CONTAINER = Path(__file__).parent / "incontainer"


@cache
def script(entry: str) -> str:
    """`entry` (a file in incontainer/) preceded by the shared modules."""
    loader = "import sys\n"
    modules = {"fof_jail": (IN_CONTAINER / "jail.py").read_text(), "fof_runner": runner_source().decode()}
    for name, source in modules.items():
        loader += (
            f"_module = type(sys)({name!r})\n"
            f"_module.SOURCE = {source!r}.encode()\n"
            f"exec(compile(_module.SOURCE, {name + '.py'!r}, 'exec'), _module.__dict__)\n"
            f"sys.modules[{name!r}] = _module\n"
        )
    return loader + "del _module\n" + (IN_CONTAINER / entry).read_text()
