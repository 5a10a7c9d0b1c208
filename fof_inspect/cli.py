"""`fof`: the project's command line: sandbox image and containers, benchmark data, search, reports."""

from __future__ import annotations

import argparse
import sys

from inspect_ai._util.error import PrerequisiteError

from fof_inspect.cli_evolve import add_evolve_arguments
from fof_inspect.cli_evolve import run as run_evolve
from fof_inspect.report import add_report_parser, run_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fof", description="fof-inspect: execution-feedback pipelines on Inspect")
    commands = parser.add_subparsers(dest="command", required=True)

    sandbox = commands.add_parser("sandbox", help="the Docker sandbox").add_subparsers(dest="action", required=True)
    build = sandbox.add_parser("build", help="build the sandbox image (registry if reachable, else offline)")
    how = build.add_mutually_exclusive_group()
    how.add_argument("--offline", action="store_const", const="offline", dest="mode",
                     help="Debian root filesystem via mmdebstrap + docker import (no registry needed)")
    how.add_argument("--registry", action="store_const", const="registry", dest="mode",
                     help="FROM python:3.x-slim (needs a reachable container registry)")
    build.add_argument("--python", default="3.11", help="python:X-slim version for registry builds")
    build.add_argument("--suite", default="bookworm", help="Debian suite for offline builds")
    build.add_argument("--mirror", default=None, help="Debian mirror for offline builds")
    build.add_argument("--if-missing", action="store_true", help="do nothing if the image already exists")
    build.set_defaults(func=sandbox_build)
    sandbox.add_parser("clean", help="remove every sandbox container left on this machine").set_defaults(
        func=sandbox_clean
    )
    data = commands.add_parser("data", help="the benchmark data").add_subparsers(dest="action", required=True)
    fetch = data.add_parser("fetch", help="download sanitized MBPP (the data the tasks read) and check its sha256")
    fetch.add_argument("--dir", default=None, help="data folder (default: $FOF_DATA_DIR, else ./data)")
    fetch.add_argument("--url", default=None, help="download from this URL instead of upstream (a mirror)")
    fetch.set_defaults(func=data_fetch)
    evolve = commands.add_parser("evolve", help="NEAT search over pipeline genomes")
    add_evolve_arguments(evolve)
    evolve.set_defaults(func=run_evolve)
    add_report_parser(commands).set_defaults(func=run_report)

    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except PrerequisiteError as ex:
        if not getattr(ex, "reported", False):  # the preflight says its failures itself
            print(f"fof: {ex}", file=sys.stderr)
        return 1


def sandbox_build(args: argparse.Namespace) -> int:
    from fof_inspect.sandbox.image import build, exists

    if args.if_missing and exists():
        print("The sandbox image is already built.")
        return 0
    how_built = build(args.mode or "auto", python_version=args.python, suite=args.suite, mirror=args.mirror)
    print(f"Built the sandbox image ({how_built}).")
    return 0


def data_fetch(args: argparse.Namespace) -> int:
    from fof_inspect.data_fetch import DATA_FILES, data_dir, fetch

    root = data_dir(args.dir)
    for file in DATA_FILES:
        fetched = fetch(root, file, args.url)
        print(f"{'Fetched' if fetched else 'Already there:'} {root / file.path} (sha256 {file.sha256[:12]}... verified)")
    print(f"Use it with: export FOF_DATA_DIR={root.resolve()}")
    return 0


def sandbox_clean(args: argparse.Namespace) -> int:
    from fof_inspect.sandbox.containers import remove_all

    print(f"Removed {len(remove_all())} sandbox container(s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
