"""What a report table is, and how tables and figures are written: Markdown plus one CSV each.

A table that the logs cannot support is still a `Table`, with `missing` saying why: it is
written to the Markdown as a line and printed, never silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fof_inspect.report.figures import Figure

REPORT_FILE = "report.md"


@dataclass
class Table:
    """One report table: its data (the CSV), how it reads (the Markdown), or why it is missing."""

    name: str
    """File stem of its CSV, e.g. `error_taxonomy`."""
    title: str
    frame: pd.DataFrame | None = None
    """The numbers, one row per observation; written as `<name>.csv`."""
    display: pd.DataFrame | None = None
    """The paper-style layout for Markdown; `frame` when not given."""
    notes: list[str] = field(default_factory=list)
    missing: str | None = None

    @classmethod
    def absent(cls, name: str, title: str, reason: str, notes: Sequence[str] = ()) -> Table:
        return cls(name=name, title=title, missing=reason, notes=list(notes))

    def markdown(self) -> str:
        lines = [f"## {self.title}", ""]
        if self.missing:
            lines += [f"**Missing:** {self.missing}", ""]
        else:
            shown = self.display if self.display is not None else self.frame
            lines += [markdown_table(shown) if shown is not None and not shown.empty else "(none)", ""]
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (no `tabulate` dependency)."""

    def cell(value: object) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"
        return str(value).replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def write_report(out_dir: Path, tables: Sequence[Table], figures: Sequence[Figure], preamble: Sequence[str]) -> Path:
    """`report.md` with every table and figure, and `<name>.csv` for every table that exists.

    A stale CSV of a table that is now missing is removed, so the directory never mixes reports.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for table in tables:
        csv = out_dir / f"{table.name}.csv"
        if table.frame is not None and not table.missing:
            table.frame.round(4).to_csv(csv, index=False)
        else:
            csv.unlink(missing_ok=True)
    parts = ["# fof report", "", *preamble, "", *(table.markdown() for table in tables), "## Figures", ""]
    for figure in figures:
        if figure.path is not None:
            parts += [f"### {figure.title}", "", f"![{figure.title}]({figure.path.name})", ""]
        else:
            parts += [f"### {figure.title}", "", f"**Missing:** {figure.missing}", ""]
    report = out_dir / REPORT_FILE
    report.write_text("\n".join(parts).rstrip() + "\n", encoding="utf-8")
    return report
