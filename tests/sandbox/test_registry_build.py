"""The registry build path every user with Docker Hub takes: `fof sandbox build --registry`
(FROM python:3.11-slim), then the harness's self-test in the image it built.

CI (.ci/run) serves a local registry (Debian's docker-registry) as the engine's Docker Hub
mirror, seeded with a base image tagged python:3.11-slim, and names the engine that pulls
through it in FOF_REGISTRY_DOCKER_HOST (empty: the default engine; where dockerd was
already running without the mirror, a second engine of its own). Elsewhere the test runs
when the default engine has a registry mirror, and skips otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import docker
import pytest
from inspect_ai.log import list_eval_logs, read_eval_log

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.registry, pytest.mark.slow, pytest.mark.docker]


def mirror_engine() -> str | None:
    """DOCKER_HOST of an engine with a Docker Hub mirror that answers ("" = the default), or None."""
    if "FOF_REGISTRY_DOCKER_HOST" in os.environ:
        return os.environ["FOF_REGISTRY_DOCKER_HOST"]
    try:
        mirrors = docker.from_env().info().get("RegistryConfig", {}).get("Mirrors") or []
    except docker.errors.DockerException:
        return None
    return "" if any(answers(m) for m in mirrors) else None


def answers(mirror: str) -> bool:
    try:
        with urllib.request.urlopen(mirror.rstrip("/") + "/v2/", timeout=3):
            return True
    except (OSError, ValueError):
        return False


def run(args: list[str], engine: str, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    if engine:
        env["DOCKER_HOST"] = engine
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200, **kwargs)


def test_registry_build_makes_an_image_the_reference_tasks_pass_in(tmp_path: Path, data_dir: str) -> None:
    engine = mirror_engine()
    if engine is None:
        if os.environ.get("FOF_REQUIRE_REGISTRY"):
            pytest.fail("FOF_REQUIRE_REGISTRY is set but no engine has a Docker Hub mirror (see .ci/run)")
        pytest.skip("no Docker Hub mirror that answers on the engine (.ci/run sets one up)")
    bin_dir = Path(sys.executable).parent
    built = run([str(bin_dir / "fof"), "sandbox", "build", "--registry"], engine)
    assert built.returncode == 0 and "(registry)" in built.stdout, built.stderr[-2000:]
    client = docker.DockerClient(base_url=engine) if engine else docker.from_env()
    image = client.images.get("fof-inspect-sandbox:latest")
    assert image.labels.get("fof-inspect.image") == "sandbox"
    assert len(image.history()) > 1  # built FROM a base with a Dockerfile, not `docker import`ed

    for task, count in (("tasks/humaneval.py", 164), ("tasks/mbpp.py", 427)):
        log_dir = tmp_path / Path(task).stem
        task_args = ["-T", f"data_dir={data_dir}"] if "mbpp" in task else []
        done = run([str(bin_dir / "inspect"), "eval", task, "--solver", "reference", "--log-dir", str(log_dir),
                    "--display", "none", *task_args], engine)
        assert done.returncode == 0, done.stderr[-2000:]
        [info] = list_eval_logs(str(log_dir))
        log = read_eval_log(info)
        assert log.status == "success" and len(log.samples) == count
        failures = [s.id for s in log.samples if s.scores["pass_at_1"].value != "C"]
        assert failures == [], failures
