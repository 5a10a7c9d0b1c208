"""Table 2: separation of two configurations' mean pass counts, in run-to-run standard deviations.

separation = (mean_A − mean_B) / √(sd_A² + sd_B²), the paper's σ. It is an effect size, not a
hypothesis test: it says how far apart the means are relative to the run noise, and carries no
p-value. Verdicts use the paper's wording: ≥ 3 significant, 1–3 suggestive, < 1 no difference.

Pairs are `A:B` ("A vs B", Δ = A − B); A and B are configuration ids (`C2`), exact labels or a
unique part of a label. Labels hold colons (`llama3.2:3b`), so every split point is tried.
By default every configuration is compared with the baseline: the first solo configuration
(no refinement stage), else the first configuration.
"""

from __future__ import annotations

import math

import pandas as pd

from fof_inspect.report.load import Logs, ReportError, benchmark_order, benchmark_title
from fof_inspect.report.main_results import summarize
from fof_inspect.report.write import Table

NAME = "separation"
TITLE = "Table 2: Separation of key comparisons (effect size in run-to-run sd, not a hypothesis test)"
SIGNIFICANT, SUGGESTIVE = 3.0, 1.0
EFFECT_SIZE_NOTE = (
    "Separation = Δ / √(sd₁² + sd₂²) is an effect size in run-to-run standard deviations, not a "
    "hypothesis test (no p-value); ≥ 3 significant, 1–3 suggestive, < 1 no difference."
)


def verdict(sigma: float) -> str:
    size = abs(sigma)
    if size >= SIGNIFICANT:
        return "Significant"
    if size >= SUGGESTIVE:
        return "Suggestive"
    return "No difference"


def separation(delta: float, sd_a: float, sd_b: float) -> float:
    spread = math.hypot(sd_a, sd_b)
    if spread == 0:
        return 0.0 if delta == 0 else math.copysign(math.inf, delta)
    return delta / spread


def resolve(token: str, configurations: pd.DataFrame) -> str | None:
    """The config id a user's token names: an id, an exact label, or a unique part of one."""
    token = token.strip()
    for cid, label in zip(configurations["config_id"], configurations["config"], strict=True):
        if token.upper() == cid or token == label:
            return cid
    partial = [
        cid
        for cid, label in zip(configurations["config_id"], configurations["config"], strict=True)
        if token.lower() in label.lower()
    ]
    return partial[0] if len(partial) == 1 else None


def parse_pair(text: str, configurations: pd.DataFrame) -> tuple[str, str]:
    for at in (i for i, ch in enumerate(text) if ch == ":"):
        a, b = resolve(text[:at], configurations), resolve(text[at + 1 :], configurations)
        if a and b:
            return a, b
    known = "; ".join(f"{c.config_id} = {c.config}" for c in configurations.itertuples())
    raise ReportError(
        f"--pairs {text!r}: expected A:B naming two configurations (ids, labels or unique parts): {known}"
    )


def default_pairs(configurations: pd.DataFrame) -> list[tuple[str, str]]:
    """Every configuration against the first solo one (else the first)."""
    ids = configurations["config_id"].tolist()
    solo = [cid for cid, is_solo in zip(ids, configurations["solo"], strict=True) if is_solo]
    baseline = solo[0] if solo else ids[0]
    return [(cid, baseline) for cid in ids if cid != baseline]


def build(logs: Logs, pairs: list[str] | None = None) -> Table:
    configurations = logs.configurations()
    if len(configurations) < 2:
        return Table.absent(NAME, TITLE, "needs at least two configurations; these logs hold one.")
    chosen = [parse_pair(p, configurations) for p in pairs] if pairs else default_pairs(configurations)
    summary = summarize(logs.samples).set_index(["config_id", "benchmark"])
    labels = dict(zip(configurations["config_id"], configurations["config"], strict=True))
    rows = []
    for a, b in chosen:
        for bench in benchmark_order(summary.index.get_level_values("benchmark").tolist()):
            if (a, bench) not in summary.index or (b, bench) not in summary.index:
                continue
            ra, rb = summary.loc[(a, bench)], summary.loc[(b, bench)]
            delta = ra["mean"] - rb["mean"]
            one_run = [cid for cid, r in ((a, ra), (b, rb)) if r["runs"] < 2]
            sep = math.nan if one_run else separation(delta, ra["sd"], rb["sd"])
            rows.append(
                {
                    "comparison": f"{a} vs {b}",
                    "a_id": a,
                    "a": labels[a],
                    "b_id": b,
                    "b": labels[b],
                    "benchmark": bench,
                    "mean_a": ra["mean"],
                    "sd_a": ra["sd"],
                    "runs_a": int(ra["runs"]),
                    "mean_b": rb["mean"],
                    "sd_b": rb["sd"],
                    "runs_b": int(rb["runs"]),
                    "delta": delta,
                    "separation": sep,
                    "verdict": f"n/a: one run of {' and '.join(one_run)}" if one_run else verdict(sep),
                }
            )
    compared = {(r["a_id"], r["b_id"]) for r in rows}
    apart = [f"{a} vs {b}" for a, b in chosen if (a, b) not in compared]
    notes = [f"Not run on a common benchmark: {', '.join(apart)}."] if apart else []
    if not rows:
        return Table.absent(NAME, TITLE, "no chosen pair of configurations was run on a common benchmark.", notes)
    frame = pd.DataFrame(rows)
    return Table(NAME, TITLE, frame=frame, display=_display(frame), notes=[EFFECT_SIZE_NOTE, *notes])


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    """The paper's layout: one row per comparison, `+17.4 (4.7σ, significant)` per benchmark."""
    benchmarks = benchmark_order(frame["benchmark"].tolist())
    rows = []
    for (comparison, a, b), cells in frame.groupby(["comparison", "a", "b"], sort=False):
        row = {"Comparison": f"{comparison}: {a} vs {b}"}
        by_benchmark = {r["benchmark"]: r for r in cells.to_dict("records")}
        for bench in benchmarks:
            r = by_benchmark.get(bench)
            if r is None:
                row[benchmark_title(bench)] = "N/A"
            elif math.isnan(r["separation"]):
                row[benchmark_title(bench)] = f"{r['delta']:+.1f} ({r['verdict']})"
            else:
                row[benchmark_title(bench)] = f"{r['delta']:+.1f} ({abs(r['separation']):.1f}σ, {r['verdict'].lower()})"
        rows.append(row)
    return pd.DataFrame(rows)
