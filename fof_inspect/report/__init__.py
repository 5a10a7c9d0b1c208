"""`fof report`: the paper's tables and figures from this project's Inspect logs.

One module per table (main_results, separation, error_taxonomy, early_stopping, consistency,
search_runs), reading the frame `load` builds; `figures` and `write` produce the files.
"""

from fof_inspect.report.command import add_report_parser, make_report, run_report

__all__ = ["add_report_parser", "make_report", "run_report"]
