"""Inspect's sandbox conformance suite (`self_check`) against fof_docker.

Every check of the suite Inspect ships runs against one fof_docker sandbox, as
inspect-k8s-sandbox runs it against its own; each check is its own test here. Checks that
fof_docker fails by design are listed in KNOWN_FAILURES with the reason, and must keep
failing (a known failure that starts passing is reported, so the list stays true).
"""

from __future__ import annotations

import asyncio

import pytest

from fof_inspect.compat import sandbox_self_checks
from fof_inspect.sandbox.provider import FofDockerSandbox

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("docker_sandbox")]

CHECKS = sandbox_self_checks()

_FRESH = "by design every exec starts in a fresh scratch directory (/tmp/run) and nothing it writes survives it"
_ROOT_FILES = "by design read_file/write_file act as root (in /workspace) while commands run as nobody"
KNOWN_FAILURES: dict[str, str] = {
    "test_cwd_unspecified": f"{_FRESH}; write_file's relative paths resolve in /workspace",
    "test_cwd_absolute": f"{_FRESH}: the directory an earlier exec made is gone",
    "test_exec_input_binary": f"{_FRESH}: the file the command wrote is gone",
    "test_read_file_zero_length": f"{_FRESH}: the file `touch` made is gone",
    "test_read_file_not_allowed": f"{_ROOT_FILES}: nobody cannot chmod root's file, and root reads it anyway",
    "test_write_text_file_without_permissions": f"{_ROOT_FILES}: root writes a read-only file anyway",
    "test_write_binary_file_without_permissions": f"{_ROOT_FILES}: root writes a read-only file anyway",
    "test_exec_as_user": "by design commands run only as nobody (user='root' raises SandboxUserUnsupportedError)",
    "test_read_and_write_large_file_binary": "the check writes 50 MiB; /workspace is a 16 MB tmpfs (counted as "
                                             "container memory): write_file raises ENOSPC and leaves nothing",
    "test_exec_large_command": "the supervisor gets the command inside one JSON argument, and one argument is "
                               "capped at 128 KiB (MAX_ARG_STRLEN): ~1 MiB of arguments fail to start",
    "test_exec_timeout_not_raised_on_fast_signal_death": "a command killed by signal N exits -N (as with "
                                                         "subprocess and Inspect's local sandbox), not a shell's 128+N",
}
"""Checks fof_docker fails, with why (cf. inspect-k8s-sandbox's and Inspect's own lists)."""


CHECK_SECONDS = 180
"""A check that takes longer has failed (a hang must not hold up the suite)."""


async def run_checks() -> dict[str, str | None]:
    """Each check's failure (None: passed), all on one sandbox of one task."""
    task = "self_check"
    await FofDockerSandbox.task_init(task, None)
    environments = await FofDockerSandbox.sample_init(task, None, {})
    results: dict[str, str | None] = {}
    try:
        for name, check in CHECKS.items():
            try:
                await asyncio.wait_for(check(environments["default"]), CHECK_SECONDS)
                results[name] = None
            except BaseException as ex:  # noqa: BLE001 - a check's failure is its result
                results[name] = f"{type(ex).__name__}: {ex}"
    finally:
        await FofDockerSandbox.sample_cleanup(task, None, environments, interrupted=False)
        await FofDockerSandbox.task_cleanup(task, None, cleanup=True)
    return results


@pytest.fixture(scope="module")
def results() -> dict[str, str | None]:
    return asyncio.run(run_checks())


def test_the_suite_is_found() -> None:
    assert len(CHECKS) > 30, sorted(CHECKS)
    assert set(KNOWN_FAILURES) <= set(CHECKS), set(KNOWN_FAILURES) - set(CHECKS)


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_fof_docker_passes_inspects_sandbox_check(check: str, results: dict[str, str | None]) -> None:
    failure = results[check]
    if check in KNOWN_FAILURES:
        assert failure is not None, f"{check} passes now: remove it from KNOWN_FAILURES"
        pytest.xfail(KNOWN_FAILURES[check])
    assert failure is None, failure
