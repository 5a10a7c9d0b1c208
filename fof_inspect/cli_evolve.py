"""`fof evolve`'s arguments: parsed here, defaults and help read from the run's `RunConfig`."""

from __future__ import annotations

import argparse
import sys
import typing
from datetime import datetime
from pathlib import Path

from inspect_ai._util.error import PrerequisiteError
from pydantic import ValidationError

from fof_inspect.search.config import RunConfig
from fof_inspect.search.engine import DEFAULT_DISPLAY, Search
from fof_inspect.search.evaluation import GenomeEvaluationError

DISPLAYS = ["full", "conversation", "rich", "plain", "log", "none"]
_NOT_OPTIONS = {"run_dir"}  # added by hand below, beside --resume


def add_evolve_arguments(parser: argparse.ArgumentParser) -> None:
    for name, field in RunConfig.model_fields.items():
        if name in _NOT_OPTIONS:
            continue
        flag = "--" + name.replace("_", "-")
        default = field.default
        choices = typing.get_args(field.annotation) if typing.get_origin(field.annotation) is typing.Literal else None
        if name == "models":
            default = ",".join(default)
        described = field.description if default is None else f"{field.description} (default {default})"
        if choices:
            parser.add_argument(flag, choices=list(choices), default=default, help=described)
        elif default is None:
            parser.add_argument(flag, help=described)
        else:
            parser.add_argument(flag, type=type(default), default=default, help=described)
    parser.add_argument("--run-dir", help=RunConfig.model_fields["run_dir"].description)
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR")
    parser.add_argument("--display", choices=DISPLAYS, default=DEFAULT_DISPLAY,
                        help="Inspect's display while a generation runs (none: only the per-generation lines)")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    try:
        return RunConfig.model_validate({name: getattr(args, name) for name in RunConfig.model_fields})
    except ValidationError as ex:
        first = ex.errors()[0]
        raise PrerequisiteError(f"--{str(first['loc'][0]).replace('_', '-')}: {first['msg']}") from None


def run(args: argparse.Namespace) -> int:
    run_dir = Path(args.resume or args.run_dir or f"logs/evolve-{datetime.now():%Y%m%d-%H%M%S}")
    try:
        if args.resume:
            search = Search.resume(run_dir, args.display)
            print(f"Resuming {run_dir} at generation {search.state.generation}.")
        else:
            search = Search.start(config_from_args(args).model_copy(update={"run_dir": str(run_dir)}), run_dir,
                                  args.display)
        search.run()
        if search.config.validate_runs > 0:
            search.validate()
    except GenomeEvaluationError as ex:
        print(f"fof evolve: {ex}; fix it, then resume with `fof evolve --resume {run_dir}`", file=sys.stderr)
        return 1
    except PrerequisiteError as ex:
        print(f"fof evolve: {ex}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nInterrupted: resume with `fof evolve --resume {run_dir}`.", file=sys.stderr)
        return 130
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fof evolve", description="NEAT search over pipeline genomes")
    add_evolve_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
