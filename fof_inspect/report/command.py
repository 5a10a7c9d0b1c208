"""`fof report LOG_PATH… --out DIR`: every table and figure the logs support, and why others are missing.

`add_report_parser` is cheap (no pandas or matplotlib import) so the rest of `fof` starts fast;
the work happens in `make_report`, which is also the entry point for scripts and tests.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fof_inspect.report.figures import Figure
    from fof_inspect.report.write import Table


@dataclass
class Report:
    """What one `fof report` produced."""

    path: Path
    tables: list[Table]
    figures: list[Figure]

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def add_report_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `report` to `fof`'s subcommands."""
    parser = subparsers.add_parser(
        "report",
        help="the paper's tables (Markdown + CSV) and figures (PNG) from Inspect logs",
        description="Tables 1-8 and Figures 2-3 of the paper from this project's Inspect logs. "
        "Tables the logs cannot support are listed with the reason.",
    )
    parser.add_argument(
        "logs", nargs="+", metavar="LOG_PATH", help="Inspect log files or directories (searched recursively)"
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="directory for report.md, CSVs and PNGs")
    parser.add_argument(
        "--pairs",
        nargs="+",
        metavar="A:B",
        default=None,
        help="comparisons for Table 2, 'A vs B' (configuration ids like C2, labels or unique parts of labels); "
        "default: every configuration vs the first solo one",
    )
    parser.add_argument(
        "--search-runs",
        nargs="+",
        type=Path,
        default=[],
        metavar="RUN_DIR",
        help="search run directories for Table 7 (each with summary.json; see fof_inspect/report/search_runs.py)",
    )
    return parser


def make_report(
    logs: list[str | Path], out: Path, pairs: list[str] | None = None, search_runs: list[Path] | None = None
) -> Report:
    """Read the logs, build every table and figure, write them under `out`."""
    from fof_inspect.report import consistency, early_stopping, error_taxonomy, main_results, separation
    from fof_inspect.report import search_runs as runs
    from fof_inspect.report.figures import draw_all
    from fof_inspect.report.load import load_logs
    from fof_inspect.report.write import write_report

    loaded = load_logs(logs)
    tables = [
        main_results.build(loaded),
        separation.build(loaded, pairs),
        *error_taxonomy.build(loaded),
        *early_stopping.build(loaded),
        runs.build(list(search_runs or [])),
        *consistency.build(loaded),
    ]
    figures = draw_all({t.name: t for t in tables}, out)
    samples = loaded.samples
    preamble = [
        f"{len(loaded.files)} log file(s), {samples['run'].nunique()} run(s), {len(samples)} graded samples.",
        *(f"- {note}" for note in loaded.notes),
    ]
    return Report(write_report(out, tables, figures, preamble), tables, figures)


def run_report(args: argparse.Namespace) -> int:
    """`fof report`: print Table 1 and what is missing, write the report; 1 on unusable input."""
    from fof_inspect.report.load import ReportError

    try:
        report = make_report(args.logs, args.out, pairs=args.pairs, search_runs=args.search_runs)
    except ReportError as ex:
        print(f"fof report: {ex}", file=sys.stderr)
        return 1
    print(report.tables[0].markdown())
    for table in report.tables:
        if table.missing:
            print(f"Missing {table.title}: {table.missing}")
    for figure in report.figures:
        if figure.missing:
            print(f"Missing figure {figure.name}.png ({figure.title}): {figure.missing}")
    written = [t for t in report.tables if not t.missing]
    drawn = [f for f in report.figures if f.path]
    print(f"\nWrote {report.path} with {len(written)} CSV table(s) and {len(drawn)} figure(s) in {report.path.parent}.")
    return 0
