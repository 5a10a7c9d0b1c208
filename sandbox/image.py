"""Build the sandbox image: from python:3.x-slim where a registry answers, else offline.

Offline, a minimal Debian with python3 is made with `mmdebstrap` from Debian's package
mirror and imported with the engine API (`docker import`): it needs no container registry.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Literal

from docker.errors import APIError, BuildError, ImageNotFound

from fof_inspect.compat import PrerequisiteError
from fof_inspect.sandbox.config import IMAGE
from fof_inspect.sandbox.engine import engine

Mode = Literal["auto", "registry", "offline"]
DOCKERFILE_DIR = Path(__file__).parent
DEBIAN_SUITE = "bookworm"  # its python3 is 3.11
MMDEBSTRAP_OPTIONS = [
    "--variant=essential",
    "--include=python3",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
]
IMPORT_CHANGES = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    'LABEL fof-inspect.image="sandbox"',
    'CMD ["sleep", "infinity"]',
]


class ImageBuildError(PrerequisiteError):
    """The sandbox image could not be built; the message says what to do."""


def build(mode: Mode = "auto", image: str = IMAGE, python_version: str = "3.11",
          suite: str = DEBIAN_SUITE, mirror: str | None = None, log=print) -> str:
    """Build `image` and return how it was built ("registry" or "offline")."""
    if mode in ("auto", "registry"):
        try:
            build_from_registry(image, python_version)
            return "registry"
        except (APIError, BuildError) as ex:
            if mode == "registry":
                raise ImageBuildError(f"Building from python:{python_version}-slim failed: {ex}") from ex
            log(f"No container registry reachable ({str(ex).splitlines()[0][:120]}); building offline.")
    build_offline(image, suite, mirror, log)
    return "offline"


def exists(image: str = IMAGE) -> bool:
    try:
        engine().images.get(image)
        return True
    except ImageNotFound:
        return False


def build_from_registry(image: str, python_version: str) -> None:
    engine().images.build(
        path=str(DOCKERFILE_DIR),
        tag=image,
        rm=True,
        buildargs={"PYTHON_VERSION": python_version},
    )


def build_offline(image: str, suite: str = DEBIAN_SUITE, mirror: str | None = None, log=print) -> None:
    """A Debian root filesystem with python3, imported as an image."""
    tool = shutil.which("mmdebstrap")
    if tool is None:
        raise ImageBuildError(
            "An offline build needs mmdebstrap: install it (`sudo apt-get install mmdebstrap`) "
            "or build from a registry where one is reachable (`fof sandbox build --registry`)."
        )
    client = engine()  # fail on a stopped engine before the slow part
    repository, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "latest")
    with tempfile.TemporaryDirectory(prefix="fof-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        cmd = [tool, *MMDEBSTRAP_OPTIONS, suite, str(rootfs), *([mirror] if mirror else [])]
        log(f"Making a Debian {suite} root filesystem with python3 (mmdebstrap) ...")
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise ImageBuildError(
                f"mmdebstrap failed (exit {done.returncode}); it needs root (or user namespaces) "
                f"and Debian's package mirror:\n{done.stderr[-2000:]}"
            )
        log(f"Importing it as {image} ...")
        client.api.import_image_from_file(str(rootfs), repository=repository, tag=tag or "latest",
                                          changes=IMPORT_CHANGES)
