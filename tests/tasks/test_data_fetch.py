"""`fof data fetch`: downloads sanitized MBPP, verifies its sha256, never leaves a
half-written or unverified file; the missing-data error names this command."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fof_inspect.cli import main
from fof_inspect.datasets import MBPP_FILE, DatasetMissingError, mbpp_dataset


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def mirror(tmp_path: Path, data_dir: str) -> Iterator[tuple[str, Path]]:
    """A local HTTP server serving the real MBPP file and a corrupted copy."""
    served = tmp_path / "served"
    served.mkdir()
    good = (Path(data_dir) / MBPP_FILE).read_bytes()
    (served / "good.json").write_bytes(good)
    (served / "corrupted.json").write_bytes(good[:-10] + b"corrupted!")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path / "data"
    server.shutdown()
    server.server_close()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_fetch_saves_a_verified_copy_the_task_then_reads(mirror, capsys) -> None:
    url, target = mirror
    assert main(["data", "fetch", "--dir", str(target), "--url", f"{url}/good.json"]) == 0
    assert f"export FOF_DATA_DIR={target.resolve()}" in capsys.readouterr().out
    assert leftovers(target) == ["sanitized-mbpp.json"]
    assert len(mbpp_dataset(data_dir=str(target))) == 427
    assert main(["data", "fetch", "--dir", str(target), "--url", f"{url}/missing.json"]) == 0  # nothing to do
    assert "Already there" in capsys.readouterr().out


def test_a_corrupted_download_is_a_clear_error_and_leaves_nothing(mirror, capsys) -> None:
    url, target = mirror
    assert main(["data", "fetch", "--dir", str(target), "--url", f"{url}/corrupted.json"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fof: ") and "expected ca95deaa" in err and "not saved" in err
    assert leftovers(target) == []


def test_a_failed_download_never_replaces_what_was_there(mirror, capsys) -> None:
    url, target = mirror
    stale = target / MBPP_FILE
    stale.parent.mkdir(parents=True)
    stale.write_text("[]")
    assert main(["data", "fetch", "--dir", str(target), "--url", f"{url}/missing.json"]) == 1
    assert "could not download" in capsys.readouterr().err
    assert stale.read_text() == "[]" and leftovers(target) == ["sanitized-mbpp.json"]
    assert main(["data", "fetch", "--dir", str(target), "--url", f"{url}/good.json"]) == 0
    assert len(mbpp_dataset(data_dir=str(target))) == 427


def test_the_missing_data_error_names_a_command_that_exists(tmp_path: Path) -> None:
    with pytest.raises(DatasetMissingError, match="`fof data fetch`"):
        mbpp_dataset(data_dir=str(tmp_path))
    with pytest.raises(SystemExit) as done:
        main(["data", "fetch", "--help"])
    assert done.value.code == 0
