"""Let `--solver NAME` find fof_inspect's solvers without the package prefix.

Inspect registers objects of an installed package as `fof_inspect/<name>`, and looks a
bare `--solver reference` up only among unprefixed names. The task files call
`expose_bare_names()` so that the names in the README work as written; the objects
keep their prefixed registry names, so logs still say `fof_inspect/<name>`.
"""

from __future__ import annotations

from inspect_ai._util import registry  # private, pinned with inspect-ai==0.3.285

PREFIX = "fof_inspect/"


def expose_bare_names(kind: str = "solver") -> None:
    for key, obj in list(registry._registry.items()):
        if key.startswith(f"{kind}:{PREFIX}"):
            bare = registry.registry_key(kind, key.split("/", 1)[1])
            registry._registry.setdefault(bare, obj)
