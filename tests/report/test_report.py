"""`fof report` on logs written here with known outcomes: every table's numbers, the figures,
and the errors and missing-table reasons a user sees. No Docker, no models: the logs are
`EvalLog` objects built from a per-sample script and written with `write_eval_log`.

The scripted study (10 HumanEval problems, 4 MBPP problems):

- C1 solo (llama3.2:3b): HumanEval 3 runs passing 2, 3, 4; MBPP 2 runs passing 1, 2.
- C2 self_refine, early stopping: HumanEval 3 runs (7, 8, 9) in two logs, the later-created log
  first; MBPP 2 runs (3, 4).
- C3 cross_model, early stopping: HumanEval 3 runs (7, 9, 8).
- C4 champion without early stopping: HumanEval, 1 run with 4-version traces.
HumanEval/9 is never solved by anyone.
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

import pytest
from inspect_ai.log import (
    EvalConfig,
    EvalDataset,
    EvalLog,
    EvalResults,
    EvalSample,
    EvalScore,
    EvalSpec,
    write_eval_log,
)
from inspect_ai.scorer import Score

from fof_inspect.report import add_report_parser, make_report, run_report
from fof_inspect.report.load import ReportError

REPO = Path(__file__).resolve().parents[2]
LLAMA = "ollama/llama3.2:3b"
SELF_REFINE = "gen(default) → exec → ref(default) ×3"
CROSS = "gen(qwen2.5:1.5b) → exec → ref(llama3.2:3b) ×3"
CHAMPION = "gen(qwen2.5:1.5b) → exec → ana(llama3.2:3b) → ref(llama3.2:3b) ×3"

Spec = tuple[str, str | None]
"""A sample's script: pass/fail of each executed version ("FFT" = fixed by the 2nd refinement), error type."""


# -- building logs ---------------------------------------------------------------------------


def trace(passes: str, error: str | None) -> list[dict]:
    return [
        {
            "stage": 1 if i < len(passes) - 1 else 2,
            "iteration": i + 1 if i < len(passes) - 1 else 1,
            "produced_by": "generator" if i == 0 else f"refiner@1.{i}",
            "code_hash": f"h{i}",
            "passed": ok == "T",
            "error_type": None if ok == "T" else error,
            "feedback_passed": ok == "T",
        }
        for i, ok in enumerate(passes)
    ]


def sample(problem: str, epoch: int, spec: Spec, pipeline: str | None) -> EvalSample:
    passes, error = spec
    passed = passes[-1] == "T"
    metadata: dict = {"error_type": None if passed else error, "code_hash": "x"}
    if pipeline:
        metadata |= {
            "iterations": len(passes) - 1,
            "first_error_type": None if passes[0] == "T" else error,
            "final_error_type": metadata["error_type"],
            "trace": trace(passes, error),
        }
    return EvalSample(
        id=problem,
        epoch=epoch,
        input="Write the function.",
        target="",
        metadata={"pipeline": pipeline, "feedback_mode": "hidden"} if pipeline else {},
        scores={"pass_at_1": Score(value="C" if passed else "I", metadata=metadata)},
    )


def write_log(
    path: Path,
    *,
    task: str,
    runs: list[list[Spec]],
    created: str,
    solver: str | None = None,
    solver_args: dict | None = None,
    pipeline: str | None = None,
    scorer: str = "pass_at_1",
) -> Path:
    names = problems(task, len(runs[0]))
    spec = EvalSpec(
        created=created,
        task=f"fof_inspect/{task}",
        dataset=EvalDataset(name=task, samples=len(names)),
        model=LLAMA,
        config=EvalConfig(epochs=len(runs)),
        solver=solver,
        solver_args=solver_args or {},
    )
    samples = [
        sample(p, e, s, pipeline) for e, run in enumerate(runs, start=1) for p, s in zip(names, run, strict=True)
    ]
    results = EvalResults(
        total_samples=len(names), completed_samples=len(samples), scores=[EvalScore(name=scorer, scorer=scorer)]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_eval_log(EvalLog(eval=spec, status="success", samples=samples, results=results), str(path))
    return path


def problems(task: str, n: int) -> list[str]:
    return [f"HumanEval/{i}" for i in range(n)] if task == "humaneval" else [f"Mbpp/{i}" for i in (2, 3, 4, 6)][:n]


def solo_run(passing: int, n: int, last_error: str = "AssertionError") -> list[Spec]:
    return [
        ("T", None) if i < passing else ("F", "NameError" if i == n - 1 and n == 10 else last_error) for i in range(n)
    ]


def self_refine_run(h7: str, h8: Spec) -> list[Spec]:
    return [("T", None)] * 4 + [
        ("FT", "NameError"),
        ("FFT", "TypeError"),
        ("FT", "AssertionError"),
        (h7, "AssertionError"),
        h8,
        ("FFFF", "NameError"),
    ]


def cross_run(passing: int) -> list[Spec]:
    return [("T", None)] * 4 + [
        ("FT", "NameError") if i < passing else ("FFFF", "AssertionError") for i in range(4, 10)
    ]


CHAMPION_RUN: list[Spec] = [
    ("TTTT", None),
    ("TFFF", "AssertionError"),
    ("TFTT", "AssertionError"),
    ("TTFF", "AssertionError"),
    ("FTTT", "NameError"),
    ("FFFF", "NameError"),
    ("FFFT", "TypeError"),
    ("FFFF", "AssertionError"),
    ("FFTF", "AssertionError"),
    ("FFFF", "NameError"),
]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("study")
    logs = root / "logs"
    refine = {"solver": "fof_inspect/self_refine", "pipeline": SELF_REFINE}
    write_log(
        logs / "1-solo-humaneval.eval",
        task="humaneval",
        created="2025-01-01T00:00:00+00:00",
        runs=[solo_run(2, 10), solo_run(3, 10), solo_run(4, 10)],
    )
    write_log(
        logs / "2-solo-mbpp.eval",
        task="mbpp",
        created="2025-01-01T00:00:00+00:00",
        runs=[solo_run(1, 4), solo_run(2, 4)],
    )
    write_log(
        logs / "3-refine-humaneval-a.eval",
        task="humaneval",
        created="2025-01-02T00:00:00+00:00",
        **refine,
        runs=[self_refine_run("FFFF", ("FFFF", "AssertionError")), self_refine_run("FFFT", ("FT", "NameError"))],
    )
    write_log(
        logs / "4-refine-humaneval-b.eval",
        task="humaneval",
        created="2025-01-01T12:00:00+00:00",
        **refine,
        runs=[self_refine_run("FFFT", ("FFFF", "AssertionError"))],
    )
    mbpp = [("T", None), ("FT", "NameError"), ("FT", "SyntaxError")]
    write_log(
        logs / "5-refine-mbpp.eval",
        task="mbpp",
        created="2025-01-02T00:00:00+00:00",
        **refine,
        runs=[mbpp + [("FFFF", "AssertionError")], mbpp + [("FFFT", "AssertionError")]],
    )
    cross = write_log(
        root / "cross.eval",
        task="humaneval",
        created="2025-01-03T00:00:00+00:00",
        solver="fof_inspect/cross_model",
        pipeline=CROSS,
        runs=[cross_run(7), cross_run(9), cross_run(8)],
    )
    champion = write_log(
        root / "champion.eval",
        task="humaneval",
        created="2025-01-04T00:00:00+00:00",
        solver="fof_inspect/pipeline",
        solver_args={"early_stop": False, "genome": "champion"},
        pipeline=CHAMPION,
        runs=[CHAMPION_RUN],
    )
    return {"root": root, "logs": logs, "cross": cross, "champion": champion}


@pytest.fixture(scope="module")
def search_runs(study: dict[str, Path]) -> list[Path]:
    runs = study["root"] / "runs"
    (runs / "v2").mkdir(parents=True)
    (runs / "v2" / "summary.json").write_text(
        '{"regime": "stochastic", "champion": {"describe": "gen(llama3.2:3b) → exec → ref(llama3.2:3b) ×2", '
        '"iterations": 2, "search_fitness": 0.82}, '
        '"validation": {"single_run": 99, "runs": [93, 95, 90, 97, 94], "benchmark_size": 164}}'
    )
    (runs / "v3").mkdir()
    (runs / "v3" / "summary.json").write_text(
        '{"regime": "stochastic", "champion": {"describe": "gen(qwen2.5:1.5b) → exec → ref(llama3.2:3b) ×3", '
        '"iterations": 3, "search_fitness": 0.76}}'
    )
    (runs / "temp0").mkdir()
    shutil.copy(REPO / "solvers" / "pipelines" / "champion.yaml", runs / "temp0" / "champion.yaml")
    return [runs / "v2", runs / "v3", runs / "temp0"]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fof")
    add_report_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["report", *argv])


def rows(out: Path, name: str) -> list[dict[str, str]]:
    with open(out / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def pick(table: list[dict[str, str]], **match: str) -> dict[str, str]:
    found = [r for r in table if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


@pytest.fixture(scope="module")
def full_report(
    study: dict[str, Path], search_runs: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, Path]:
    """The report of the whole scripted study: `run_report`'s exit code and the output directory."""
    out = tmp_path_factory.mktemp("report")
    args = parse(
        [
            str(study["logs"]),
            str(study["cross"]),
            str(study["champion"]),
            "--out",
            str(out),
            "--search-runs",
            *map(str, search_runs),
        ]
    )
    return run_report(args), out


# -- the full report -------------------------------------------------------------------------


def test_main_results_and_stdout(full_report: tuple[int, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out = full_report
    assert code == 0
    table = rows(out, "main_results")
    solo = pick(table, config_id="C1", benchmark="humaneval")
    assert solo["config"] == "solo (llama3.2:3b)"
    assert (solo["runs"], solo["problems"], float(solo["mean"]), float(solo["sd"]), float(solo["percent"])) == (
        "3",
        "10",
        3.0,
        1.0,
        30.0,
    )
    assert solo["pass_counts"] == "2 3 4"
    assert float(pick(table, config_id="C1", benchmark="mbpp")["sd"]) == pytest.approx(0.7071, abs=1e-4)
    refine = pick(table, config_id="C2", benchmark="humaneval")
    assert refine["config"] == "self_refine: gen(llama3.2:3b) → exec → ref(llama3.2:3b) ×3"
    assert (float(refine["mean"]), float(refine["sd"]), refine["pass_counts"]) == (8.0, 1.0, "8 7 9")
    assert float(pick(table, config_id="C2", benchmark="mbpp")["mean"]) == 3.5
    assert pick(table, config_id="C3", benchmark="humaneval")["config"] == f"cross_model: {CROSS}"
    champion = pick(table, config_id="C4", benchmark="humaneval")
    assert champion["config"] == f"champion: {CHAMPION} [no early stop]"
    assert (champion["runs"], champion["mean"], champion["sd"]) == ("1", "4.0", "")
    md = (out / "report.md").read_text()
    assert "| C1 | solo (llama3.2:3b) | 3.0 ± 1.0 (30.0%), 3 runs | 1.5 ± 0.7 (37.5%), 2 runs |" in md
    assert "HumanEval (10)" in md and "4 (40.0%), 1 run | N/A |" in md


def test_separation(full_report: tuple[int, Path]) -> None:
    _, out = full_report
    table = rows(out, "separation")
    assert len(table) == 4  # C2 vs C1 on both benchmarks, C3 vs C1 and C4 vs C1 on HumanEval
    he = pick(table, comparison="C2 vs C1", benchmark="humaneval")
    assert (float(he["delta"]), float(he["separation"]), he["verdict"]) == (
        5.0,
        pytest.approx(3.5355, abs=1e-4),
        "Significant",
    )
    mbpp = pick(table, comparison="C2 vs C1", benchmark="mbpp")
    assert (float(mbpp["delta"]), float(mbpp["separation"]), mbpp["verdict"]) == (2.0, 2.0, "Suggestive")
    assert pick(table, comparison="C4 vs C1")["verdict"] == "n/a: one run of C4"
    md = (out / "report.md").read_text()
    assert "not a hypothesis test" in md and "+5.0 (3.5σ, significant)" in md


def test_separation_pairs_by_label(study: dict[str, Path], tmp_path: Path) -> None:
    report = make_report(
        [study["logs"], study["cross"]], tmp_path, pairs=[f"cross_model: {CROSS}:C2", "self_refine:solo"]
    )
    frame = report.table("separation").frame
    same = frame[frame["comparison"] == "C3 vs C2"].iloc[0]
    assert (same["delta"], same["separation"], same["verdict"]) == (0.0, 0.0, "No difference")
    assert set(frame["comparison"]) == {"C3 vs C2", "C2 vs C1"}
    with pytest.raises(ReportError, match="expected A:B"):
        make_report([study["logs"]], tmp_path, pairs=["nothing:C1"])


def test_error_taxonomy(full_report: tuple[int, Path]) -> None:
    _, out = full_report
    table = rows(out, "error_taxonomy")
    expected = {
        ("C2", "humaneval", "NameError"): (7, 4),
        ("C2", "humaneval", "AssertionError"): (8, 5),
        ("C2", "humaneval", "TypeError"): (3, 3),
        ("C2", "mbpp", "NameError"): (2, 2),
        ("C2", "mbpp", "SyntaxError"): (2, 2),
        ("C2", "mbpp", "AssertionError"): (2, 1),
        ("C3", "humaneval", "NameError"): (12, 12),
        ("C3", "humaneval", "AssertionError"): (6, 0),
        ("C4", "humaneval", "NameError"): (3, 1),
        ("C4", "humaneval", "TypeError"): (1, 1),
        ("C4", "humaneval", "AssertionError"): (2, 0),
    }
    got = {(r["config_id"], r["benchmark"], r["error_type"]): (int(r["failed"]), int(r["fixed"])) for r in table}
    assert got == expected
    ranges = rows(out, "error_taxonomy_ranges")
    name = pick(ranges, benchmark="humaneval", error_type="NameError")
    assert (name["configurations"], name["failed"], name["fixed"]) == ("2", "19", "16")  # C4 has no early stopping
    assert (float(name["min_fix_rate"]), float(name["max_fix_rate"])) == (pytest.approx(4 / 7, abs=1e-4), 1.0)
    assertion = pick(ranges, benchmark="humaneval", error_type="AssertionError")
    assert (float(assertion["min_fix_rate"]), float(assertion["max_fix_rate"])) == (0.0, 0.625)
    md = (out / "report.md").read_text()
    assert "57–100% (pooled 16/19, 2 configs)" in md
    assert "no refinement stage, nothing to fix): C1" in md


def test_early_stopping(full_report: tuple[int, Path]) -> None:
    _, out = full_report
    net = [
        (r["iteration"], float(r["fixes"]), float(r["regressions"]), float(r["net"]))
        for r in rows(out, "early_stopping_net")
    ]
    assert net == [("1", 1, 2, -1), ("2", 2, 1, 1), ("3", 1, 1, 0)]
    assert [float(r["solved"]) for r in rows(out, "early_stopping_cumulative")] == [4, 5, 6, 7]
    (regression,) = rows(out, "early_stopping_regressions")
    assert regression["config_id"] == "C4"
    assert (
        float(regression["initial_passes"]),
        float(regression["broke"]),
        float(regression["break_rate"]),
        float(regression["broken_at_end"]),
    ) == (4, 3, 0.75, 2)


def test_consistency(full_report: tuple[int, Path]) -> None:
    _, out = full_report
    hist = rows(out, "consistency_histogram")

    def histogram(cid: str, bench: str) -> list[int]:
        return [int(r["problems"]) for r in hist if r["config_id"] == cid and r["benchmark"] == bench]

    assert histogram("C1", "humaneval") == [6, 1, 1, 2]
    assert histogram("C1", "mbpp") == [2, 1, 1]
    assert histogram("C2", "humaneval") == [1, 1, 1, 7]
    assert histogram("C2", "mbpp") == [0, 1, 3]
    assert histogram("C3", "humaneval") == [1, 1, 1, 7]
    assert histogram("C4", "humaneval") == []
    table8 = {
        (r["config_id"], r["benchmark"]): (int(r["first_run"]), float(r["mean"]), float(r["difference"]))
        for r in rows(out, "single_vs_mean")
    }
    assert table8 == {
        ("C1", "humaneval"): (2, 3, 1),
        ("C1", "mbpp"): (1, 1.5, 0.5),
        ("C2", "humaneval"): (8, 8, 0),
        ("C2", "mbpp"): (3, 3.5, 0.5),
        ("C3", "humaneval"): (7, 8, 1),
    }
    (never,) = rows(out, "unsolved")
    assert (never["benchmark"], never["problem"], never["attempts"], never["configurations"]) == (
        "humaneval",
        "HumanEval/9",
        "10",
        "4",
    )
    assert never["error_types"] == "NameError ×7, AssertionError ×3"
    md = (out / "report.md").read_text()
    assert "HumanEval: 1 of 10 problems never solved" in md and "MBPP: 0 of 4 problems never solved" in md
    assert "Configurations with one run (not shown): C4." in md


def test_search_runs(full_report: tuple[int, Path]) -> None:
    _, out = full_report
    table = rows(out, "search_runs")
    v2 = pick(table, run="v2")
    assert (v2["iterations"], v2["single_run"], v2["benchmark_size"], float(v2["validation_mean"])) == (
        "2",
        "99",
        "164",
        93.8,
    )
    assert float(v2["validation_sd"]) == pytest.approx(2.5884, abs=1e-4)
    assert pick(table, run="temp0")["topology"] == CHAMPION
    md = (out / "report.md").read_text()
    v3 = "| v3 | stochastic | gen(qwen2.5:1.5b) → exec → ref(llama3.2:3b) ×3 | 3 | 0.76 |"
    assert f"{v3} no validation yet | no validation yet |" in md
    assert "93.8 ± 2.6 (n=5)" in md and "99/164" in md


def test_figures(full_report: tuple[int, Path]) -> None:
    _, out = full_report
    for name in ("early_stopping_paradox", "fix_rate_by_error_type"):
        png = out / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
        assert f"]({name}.png)" in (out / "report.md").read_text()


# -- what is missing, and wrong inputs --------------------------------------------------------


def test_one_run_reports_missing_tables(
    study: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_report(parse([str(study["champion"]), "--out", str(tmp_path)])) == 0
    printed = capsys.readouterr().out
    assert "| C1 | champion: " in printed
    assert "Missing Table 8: Single-run result vs n-run mean: every configuration has one run" in printed
    assert "Missing Table 2" in printed and "needs at least two configurations" in printed
    assert "Missing Table 7: Search runs: no search run directories given" in printed
    md = (tmp_path / "report.md").read_text()
    assert "## Table 8: Single-run result vs n-run mean\n\n**Missing:** every configuration has one run" in md
    assert not (tmp_path / "single_vs_mean.csv").exists()
    assert (tmp_path / "early_stopping_net.csv").exists()


def test_no_traces_reports_missing_tables(study: dict[str, Path], tmp_path: Path) -> None:
    report = make_report([study["logs"] / "1-solo-humaneval.eval"], tmp_path)
    assert "none of these logs has one" in report.table("error_taxonomy").missing
    assert "early_stop=false" in report.table("early_stopping_net").missing
    assert all(f.missing for f in report.figures) and not list(tmp_path.glob("*.png"))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.json", '{"hello": 1}', "is not an Inspect eval log"),
        ("notes.txt", "hello", "is not an Inspect eval log"),
        ("broken.eval", "not a zip", "is not an Inspect eval log"),
    ],
)
def test_wrong_kind_of_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str, message: str
) -> None:
    bad = tmp_path / name
    bad.write_text(content)
    assert run_report(parse([str(bad), "--out", str(tmp_path / "out")])) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"fof report: {bad} ") and message in error


def test_other_inputs_the_report_cannot_use(study: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no such file or directory"):
        make_report([tmp_path / "absent"], tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match="no Inspect logs"):
        make_report([tmp_path / "empty"], tmp_path / "out")
    other = write_log(
        tmp_path / "other.eval",
        task="humaneval",
        created="2025-01-01T00:00:00+00:00",
        runs=[solo_run(1, 2)],
        scorer="match",
    )
    with pytest.raises(ReportError, match="not graded by pass_at_1"):
        make_report([other], tmp_path / "out")
    with pytest.raises(ReportError, match="neither summary.json nor champion.yaml"):
        make_report([study["champion"]], tmp_path / "out", search_runs=[tmp_path / "empty"])
