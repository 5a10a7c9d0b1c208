"""The Python source the host hands to ``python3 -I -c`` in a container.

The in-container programs (incontainer/supervisor.py, incontainer/server.py) share
incontainer/jail.py, but the image holds no code of ours, so each is sent with jail.py's
source in front, registered as the module `fof_jail` for their ``from fof_jail import ...``.
They are package data, not modules of this package: they need a container (root, the
sandbox uids) and start only as ``__main__``, so importing fof_inspect.sandbox never runs them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

IN_CONTAINER = Path(__file__).parent / "incontainer"
SHARED_MODULE = "fof_jail"


@cache
def script(entry: str) -> str:
    """`entry` (a file in incontainer/) preceded by jail.py as the module `fof_jail`."""
    jail = (IN_CONTAINER / "jail.py").read_text()
    loader = (
        "import sys\n"
        f"_jail = type(sys)({SHARED_MODULE!r})\n"
        f"exec(compile({jail!r}, {SHARED_MODULE + '.py'!r}, 'exec'), _jail.__dict__)\n"
        f"sys.modules[{SHARED_MODULE!r}] = _jail\n"
        "del _jail\n"
    )
    return loader + (IN_CONTAINER / entry).read_text()
