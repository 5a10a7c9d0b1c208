"""The sandbox package imports on the host (doc tools, --doctest-modules): the in-container
scripts are package data that start only as a container's ``__main__``."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import subprocess
import sys

import fof_inspect.sandbox
from fof_inspect.sandbox.payload import IN_CONTAINER, script


def sandbox_modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(fof_inspect.sandbox.__path__, "fof_inspect.sandbox.")]


def test_every_sandbox_module_imports_on_the_host_without_running_anything() -> None:
    names = sandbox_modules()
    assert "fof_inspect.sandbox.provider" in names
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\nprint('imported')"
    done = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "imported\n", "")


def test_the_in_container_scripts_are_package_data_not_modules() -> None:
    assert not any(".incontainer" in name or name.endswith((".server", ".supervisor", ".jail")) for name in sandbox_modules())
    for entry in ("server.py", "supervisor.py"):
        assert (IN_CONTAINER / entry).is_file()
        source = script(entry)
        assert source.rstrip().endswith('if __name__ == "__main__":\n    main()')
        compile(source, entry, "exec")  # what `python3 -I -c` runs


def load(path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_importing_a_script_by_path_runs_nothing(monkeypatch) -> None:
    # the shared modules, as payload.py provides them in the container
    monkeypatch.setitem(sys.modules, "fof_jail", load(IN_CONTAINER / "jail.py", "fof_jail"))
    runner = importlib.import_module("fof_inspect.grading.runner")
    monkeypatch.setattr(runner, "SOURCE", b"", raising=False)
    monkeypatch.setitem(sys.modules, "fof_runner", runner)
    for entry in ("server.py", "supervisor.py"):
        assert callable(load(IN_CONTAINER / entry, "probe").main)  # defined, not run
