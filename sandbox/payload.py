"""The Python source the host hands to ``python3 -I -c`` in a container.

The in-container programs (supervisor.py, server.py) share jail.py but the image
holds no code of ours, so each is sent with jail.py's source in front, registered as
the module `fof_jail` for their ``from fof_jail import ...``; the grading runner
(fof_inspect/grading/runner.py) goes along as `fof_runner`, with its exact source as
`fof_runner.SOURCE`, so the server can tell a request that brings the same runner.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fof_inspect.grading.command import runner_source

HERE = Path(__file__).parent


@cache
def script(entry: str) -> str:
    """`entry` (a file beside this one) preceded by the shared modules."""
    loader = "import sys\n"
    modules = {"fof_jail": (HERE / "jail.py").read_text(), "fof_runner": runner_source().decode()}
    for name, source in modules.items():
        loader += (
            f"_module = type(sys)({name!r})\n"
            f"_module.SOURCE = {source!r}.encode()\n"
            f"exec(compile(_module.SOURCE, {name + '.py'!r}, 'exec'), _module.__dict__)\n"
            f"sys.modules[{name!r}] = _module\n"
        )
    return loader + "del _module\n" + (HERE / entry).read_text()
