"""Tables 4–6: why early stopping matters, from runs with early stopping off.

With `-S early_stop=false` the refiner runs every iteration, and the trace holds whether each
version of the code passed the hidden tests. Version 0 is the generator's draft, version k the
k-th refiner call's output. From that one run:

- Table 4, net value per iteration: new fixes (failed at k−1, passes at k) minus new
  regressions (passed at k−1, fails at k).
- Table 5, cumulative solved with early stopping: with a budget of k iterations, the outcome is
  the first version whose feedback passed (as the pipeline would have stopped there), else
  version k.
- Table 6, regressions: drafts that passed, how many of them a later version broke, and how many
  were still broken at the end.

Several runs of one configuration are averaged (numbers per run); one run gives exact counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from fof_inspect.report.load import Logs, benchmark_title
from fof_inspect.report.write import Table
from fof_inspect.solvers.pipeline_state import IterationRecord

NET_NAME = "early_stopping_net"
NET_TITLE = "Table 4: Net value per iteration without early stopping (new fixes − new regressions, per run)"
CUMULATIVE_NAME = "early_stopping_cumulative"
CUMULATIVE_TITLE = "Table 5: Cumulative problems solved with early stopping (per run)"
REGRESSIONS_NAME = "early_stopping_regressions"
REGRESSIONS_TITLE = "Table 6: How often refinement broke initially-correct code without early stopping (per run)"
_KEYS = ["config_order", "config_id", "config", "benchmark"]
MISSING = (
    "needs runs of a refinement pipeline with early stopping off (`-S early_stop=false`); none of these logs is one."
)


def versions(trace: list[IterationRecord], length: int, key: str) -> list[bool]:
    """`key` of each version, the last one carried forward to `length` (a sample cut short)."""
    values = [bool(getattr(record, key)) for record in trace]
    return values + [values[-1]] * (length - len(values))


def with_early_stopping(trace: list[IterationRecord], budget: int) -> bool:
    """What a pipeline allowed `budget` refiner calls would have returned for this trace."""
    for record in trace[: budget + 1]:
        if record.feedback_passed:
            return record.passed
    return trace[min(budget, len(trace) - 1)].passed


def forced(samples: pd.DataFrame) -> pd.DataFrame:
    """Samples of refinement runs without early stopping."""
    has_trace = samples["trace"].map(lambda t: isinstance(t, list) and len(t) > 1)
    return samples[~samples["early_stop"] & has_trace]


Trace = list[IterationRecord]


def _per_group(samples: pd.DataFrame) -> Iterator[tuple[dict[str, Any], int, list[Trace], int]]:
    """Per configuration and benchmark: its keys, number of runs, traces and iterations."""
    for keys, group in forced(samples).groupby(_KEYS, sort=False):
        traces = group["trace"].tolist()
        yield dict(zip(_KEYS, keys, strict=True)), group["run"].nunique(), traces, max(len(t) for t in traces) - 1


def net_per_iteration(samples: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for keys, runs, traces, iterations in _per_group(samples):
        passes = [versions(t, iterations + 1, "passed") for t in traces]
        for k in range(1, iterations + 1):
            fixes = sum(not p[k - 1] and p[k] for p in passes)
            regressions = sum(p[k - 1] and not p[k] for p in passes)
            rows.append(
                {
                    **keys,
                    "runs": runs,
                    "iteration": k,
                    "fixes": fixes / runs,
                    "regressions": regressions / runs,
                    "net": (fixes - regressions) / runs,
                }
            )
    return pd.DataFrame(rows)


def cumulative(samples: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for keys, runs, traces, iterations in _per_group(samples):
        for k in range(iterations + 1):
            solved = sum(with_early_stopping(t, k) for t in traces)
            rows.append({**keys, "runs": runs, "iterations": k, "solved": solved / runs})
    return pd.DataFrame(rows)


def regressions(samples: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for keys, runs, traces, iterations in _per_group(samples):
        passes = [versions(t, iterations + 1, "passed") for t in traces]
        initial = [p for p in passes if p[0]]
        broke = sum(not all(p) for p in initial)
        rows.append(
            {
                **keys,
                "runs": runs,
                "initial_passes": len(initial) / runs,
                "broke": broke / runs,
                "break_rate": broke / len(initial) if initial else float("nan"),
                "broken_at_end": sum(not p[-1] for p in initial) / runs,
            }
        )
    return pd.DataFrame(rows)


def build(logs: Logs) -> list[Table]:
    samples = logs.samples
    if forced(samples).empty:
        return [
            Table.absent(name, title, MISSING)
            for name, title in (
                (NET_NAME, NET_TITLE),
                (CUMULATIVE_NAME, CUMULATIVE_TITLE),
                (REGRESSIONS_NAME, REGRESSIONS_TITLE),
            )
        ]
    net, cum, reg = net_per_iteration(samples), cumulative(samples), regressions(samples)
    return [
        Table(
            NET_NAME,
            NET_TITLE,
            frame=_public(net),
            notes=["Iteration k compares the k-th refiner output with the version before it, over every problem."],
            display=_pivot(
                net,
                "iteration",
                "Iter",
                lambda r: f"{_signed(r['net'])} (+{_num(r['fixes'])}/−{_num(r['regressions'])})",
            ),
        ),
        Table(
            CUMULATIVE_NAME,
            CUMULATIVE_TITLE,
            frame=_public(cum),
            notes=[
                "iters=k: the outcome had the pipeline stopped at the first passing version within k refiner calls."
            ],
            display=_pivot(cum, "iterations", "iters=", lambda r: _num(r["solved"]), sep=""),
        ),
        Table(
            REGRESSIONS_NAME,
            REGRESSIONS_TITLE,
            frame=_public(reg),
            display=pd.DataFrame(
                {
                    "Configuration": reg["config_id"] + " " + reg["config"],
                    "Benchmark": reg["benchmark"].map(benchmark_title),
                    "Initial passes": reg["initial_passes"].map(_num),
                    "Broke": reg["broke"].map(_num),
                    "Break rate": reg["break_rate"].map(lambda r: "—" if r != r else f"{100 * r:.0f}%"),
                    "Still broken at end": reg["broken_at_end"].map(_num),
                    "Runs": reg["runs"],
                }
            ),
        ),
    ]


def _num(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


def _signed(value: float) -> str:
    return _num(value) if value <= 0 else f"+{_num(value)}"


def _public(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="config_order")


def _pivot(
    frame: pd.DataFrame, column: str, prefix: str, cell: Callable[[dict[str, Any]], str], sep: str = " "
) -> pd.DataFrame:
    """One row per configuration and benchmark, one column per iteration."""
    rows = []
    for (cid, config, bench, runs), group in frame.groupby(["config_id", "config", "benchmark", "runs"], sort=False):
        row: dict[str, Any] = {"Configuration": f"{cid} {config}", "Benchmark": benchmark_title(bench), "Runs": runs}
        for r in group.to_dict("records"):
            row[f"{prefix}{sep}{r[column]}"] = cell(r)
        rows.append(row)
    return pd.DataFrame(rows)
