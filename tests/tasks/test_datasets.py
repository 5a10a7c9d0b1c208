"""Offline HumanEval / MBPP loading: counts, the metadata contract, and that the
assembled programs (reference solutions, public tests) really pass on the host."""

from __future__ import annotations

import ast
import logging
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from inspect_ai.dataset import Sample

from fof_inspect.compat import PrerequisiteError
from fof_inspect.datasets import (
    _HUMANEVAL_WRONG_EXAMPLES,
    DATA_DIR_ENV,
    HUMANEVAL_INSTRUCTION,
    MBPP_FILE,
    DatasetMissingError,
    humaneval_dataset,
    humaneval_public_tests,
    mbpp_dataset,
    mbpp_entry_point,
)
from fof_inspect.grading.extract import defines_function

METADATA_KEYS = {"benchmark", "prompt", "entry_point", "prefix", "tests", "public_tests", "reference"}
DATA_DIR = Path(os.environ.get(DATA_DIR_ENV) or Path(__file__).parents[3] / "shared" / "data")
needs_mbpp = pytest.mark.skipif(not (DATA_DIR / MBPP_FILE).is_file(), reason=f"no {MBPP_FILE} under {DATA_DIR}")


@pytest.fixture(scope="module")
def humaneval() -> list[Sample]:
    return list(humaneval_dataset())


@pytest.fixture(scope="module")
def mbpp() -> list[Sample]:
    if not (DATA_DIR / MBPP_FILE).is_file():
        pytest.skip(f"no {MBPP_FILE} under {DATA_DIR}")
    return list(mbpp_dataset(str(DATA_DIR)))


def run_programs(programs: dict[str, str], timeout: float = 30) -> dict[str, str]:
    """Run each program in its own host python process; {name: error} for the failures."""

    def run(item: tuple[str, str]) -> tuple[str, str | None]:
        name, program = item
        try:
            result = subprocess.run(
                [sys.executable, "-I", "-c", program], check=False, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return name, "timeout"
        return name, (result.stderr.strip().splitlines() or ["exit code"])[-1] if result.returncode else None

    with ThreadPoolExecutor(max_workers=max(2, 2 * (os.cpu_count() or 1))) as pool:
        return {name: error for name, error in pool.map(run, programs.items()) if error is not None}


def meta(sample: Sample) -> dict:
    assert sample.metadata is not None
    return sample.metadata


# --------------------------------------------------------------- HumanEval


def test_humaneval_count_and_ids(humaneval: list[Sample]) -> None:
    assert len(humaneval) == 164
    assert [s.id for s in humaneval] == [f"HumanEval/{i}" for i in range(164)]
    assert humaneval_dataset().name == "humaneval"


def test_humaneval_sample_contract(humaneval: list[Sample]) -> None:
    for sample in humaneval:
        m = meta(sample)
        assert set(m) >= METADATA_KEYS, sample.id
        assert m["benchmark"] == "humaneval"
        assert m["prefix"] == m["prompt"]
        assert m["reference"].startswith(m["prompt"]) and len(m["reference"]) > len(m["prompt"])
        assert sample.target == m["reference"]
        assert m["tests"].endswith(f"\ncheck({m['entry_point']})")
        assert defines_function(m["prompt"] + "    pass\n", m["entry_point"]) or defines_function(
            m["reference"], m["entry_point"]
        )
        assert sample.input == HUMANEVAL_INSTRUCTION.format(prompt=m["prompt"])
        assert sample.input.endswith("```")


def test_humaneval_first_sample_exact(humaneval: list[Sample]) -> None:
    m = meta(humaneval[0])
    assert m["entry_point"] == "has_close_elements"
    assert m["public_tests"].splitlines() == [
        "assert has_close_elements([1.0, 2.0, 3.0], 0.5) == False",
        "assert has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3) == True",
    ]


def test_humaneval_public_tests_are_parsing_asserts(humaneval: list[Sample]) -> None:
    with_tests = [s for s in humaneval if meta(s)["public_tests"]]
    for sample in with_tests:
        m = meta(sample)
        for line in m["public_tests"].splitlines():
            node = ast.parse(line).body[0]
            assert isinstance(node, ast.Assert), (sample.id, line)
            assert isinstance(node.test, ast.Compare) and isinstance(node.test.ops[0], ast.Eq), (sample.id, line)
            assert m["entry_point"] in line
    print(f"\nHumanEval samples with public tests: {len(with_tests)}/164")
    assert len(with_tests) >= 150


def test_humaneval_public_tests_pass_with_reference(humaneval: list[Sample]) -> None:
    programs = {
        str(s.id): meta(s)["prefix"] + "\n" + meta(s)["reference"] + "\n" + meta(s)["public_tests"] + "\n"
        for s in humaneval
        if meta(s)["public_tests"]
    }
    assert run_programs(programs) == {}


def test_wrong_docstring_examples_are_excluded() -> None:
    """Each listed example is really extracted (so the list is not stale) and then dropped."""
    records = {s.id: meta(s) for s in humaneval_dataset()}
    for task_id, wrong in _HUMANEVAL_WRONG_EXAMPLES.items():
        m = records[task_id]
        unfiltered = humaneval_public_tests(m["prompt"], m["entry_point"]).splitlines()
        assert wrong <= set(unfiltered), task_id
        assert not wrong & set(m["public_tests"].splitlines()), task_id


@pytest.mark.parametrize(
    ("docstring", "expected"),
    [
        (">>> f(1)\n    2\n    >>> f(2)\n    3", ["assert f(1) == 2", "assert f(2) == 3"]),
        (">>> f([])\n\n    >>> f([1])\n    1", ["assert f([]) == None", "assert f([1]) == 1"]),  # no output: None
        (">>> f(1) == 2", ["assert f(1) == 2"]),
        (">>> round(f(1), 2)\n    0.5", ["assert round(f(1), 2) == 0.5"]),
        (">>> f(['a'])\n    ['x',\n     'y']", ["assert f(['a']) == ['x', 'y']"]),
        (
            "f(1) ==> 2\n    f(2) => true\n    f(3) -> False",
            ["assert f(1) == 2", "assert f(2) == True", "assert f(3) == False"],
        ),
        ("f(1) ➞ 2\n    f(2) = 3\n    * f(3) == 4", ["assert f(1) == 2", "assert f(2) == 3", "assert f(3) == 4"]),
        ("f(1) should return 16.\n    f(2) returns 'ab'", ["assert f(1) == 16", "assert f(2) == 'ab'"]),
        ("f(1)   # returns 'x'\n    f(2) # => 'y'", ["assert f(1) == 'x'", "assert f(2) == 'y'"]),
        ("for f(1, 2) == 3", ["assert f(1, 2) == 3"]),
        ("f([\n      1, 2,\n    ]) == [2, 1]", ["assert f([1, 2]) == [2, 1]"]),
        ("f(5) -> 19 - 5 - 6 = 8", ["assert f(5) == 8"]),
        ("For x = [1,2] the output should be 3", ["assert f([1, 2]) == 3"]),
        ("Input: x = 3\n    Output: 4 # because", ["assert f(3) == 4"]),
        ("f(a) => False\n    g(1) == 2\n    f(1) == ...\n    f(1) == 'a' or prose", []),  # free names, other fn, junk
        ("f(1) [0, 1]\n    Input: z = 3\n    Output: 4", []),  # subscript typo; `z` is not a parameter
        ("Input: y = 3, x = 1\n    Output: 4", ["assert f(1, 3) == 4"]),  # keywords become positional
        ("No examples at all.", []),
    ],
)
def test_public_test_styles(docstring: str, expected: list[str]) -> None:
    prompt = f'def f(x, y=0):\n    """Do things.\n    {docstring}\n    """\n'
    assert humaneval_public_tests(prompt, "f").splitlines() == expected


def test_public_tests_keep_escapes_and_helpers() -> None:
    prompt = (
        "def helper(s):\n    return s\n\n\n"
        'def f(s):\n    """\n    >>> f("a\\nb")\n    \'a\\nb\'\n    f(helper(\'x\')) == \'x\'\n    """\n'
    )
    assert humaneval_public_tests(prompt, "f").splitlines() == [
        "assert f('a\\nb') == 'a\\nb'",
        "assert f(helper('x')) == 'x'",
    ]


# --------------------------------------------------------------- MBPP


@pytest.mark.parametrize(
    ("split", "count"), [("all", 427), ("test", 257), ("prompt", 7), ("validation", 43), ("train", 120)]
)
@needs_mbpp
def test_mbpp_split_counts(split: str, count: int) -> None:
    dataset = mbpp_dataset(str(DATA_DIR), split=split)
    assert len(dataset) == count
    assert dataset.name == "mbpp"


@needs_mbpp
def test_mbpp_test_split_ids() -> None:
    ids = [int(str(s.id).removeprefix("Mbpp/")) for s in mbpp_dataset(str(DATA_DIR), split="test")]
    assert all(11 <= i <= 510 for i in ids)


def test_mbpp_sample_contract(mbpp: list[Sample]) -> None:
    assert mbpp[0].id == "Mbpp/2"
    assert all(str(s.id).startswith("Mbpp/") for s in mbpp)
    for sample in mbpp:
        m = meta(sample)
        assert set(m) >= METADATA_KEYS, sample.id
        assert m["benchmark"] == "mbpp"
        assert sample.target == m["reference"]
        assert m["public_tests"] == m["tests"].splitlines()[0]
        assert m["public_tests"].startswith("assert")
        assert defines_function(m["reference"], m["entry_point"]), (sample.id, m["entry_point"])
        assert m["entry_point"] in m["public_tests"]
        assert sample.input.startswith(m["prompt"] + "\nYour code should pass these tests:\n\n" + m["tests"] + "\n\n")
        assert sample.input.endswith("in a single ```python code block.")


def test_mbpp_first_sample_exact(mbpp: list[Sample]) -> None:
    m = meta(mbpp[0])
    assert m["entry_point"] == "similar_elements"  # wrapped in set(...) in the assert
    assert m["public_tests"] == "assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))"
    assert m["prefix"] == ""


def test_mbpp_prefix_from_test_imports(mbpp: list[Sample]) -> None:
    with_imports = [meta(s) for s in mbpp if meta(s)["prefix"]]
    assert with_imports and all(m["prefix"].startswith(("import", "from")) for m in with_imports)


def test_mbpp_entry_point_shadowing_builtin(mbpp: list[Sample]) -> None:
    assert meta(next(s for s in mbpp if s.id == "Mbpp/126"))["entry_point"] == "sum"
    assert mbpp_entry_point("assert math.isclose(area(2), 4.0, rel_tol=0.001)") == "area"
    assert mbpp_entry_point("assert set(pairs([1])) == set()") == "pairs"


@needs_mbpp
def test_mbpp_show_first_test_only() -> None:
    for sample in mbpp_dataset(str(DATA_DIR), show_tests="first"):
        m = meta(sample)
        hidden = m["tests"].splitlines()[1:]
        assert m["public_tests"] in str(sample.input)
        assert hidden and not any(test in str(sample.input) for test in hidden), sample.id


@needs_mbpp
def test_mbpp_bad_arguments() -> None:
    with pytest.raises(ValueError, match="split"):
        mbpp_dataset(str(DATA_DIR), split="dev")
    with pytest.raises(ValueError, match="show_tests"):
        mbpp_dataset(str(DATA_DIR), show_tests="none")


def test_mbpp_missing_dir_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    with pytest.raises(DatasetMissingError) as info:
        mbpp_dataset(str(tmp_path))
    message = str(info.value)
    assert isinstance(info.value, PrerequisiteError)
    assert str(tmp_path / "mbpp" / "sanitized-mbpp.json") in message
    for hint in (DATA_DIR_ENV, "-T data_dir=", "fof data fetch", "raw.githubusercontent.com"):
        assert hint in message


def test_mbpp_no_dir_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    with pytest.raises(DatasetMissingError, match=f"{DATA_DIR_ENV} is not set"):
        mbpp_dataset()


@needs_mbpp
def test_mbpp_data_dir_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(DATA_DIR))
    assert len(mbpp_dataset(split="test")) == 257
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(DatasetMissingError, match=str(tmp_path)):
        mbpp_dataset()
    assert len(mbpp_dataset(str(DATA_DIR), split="prompt")) == 7  # the argument wins over the env var


@needs_mbpp
def test_mbpp_checksum_mismatch_only_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "mbpp").mkdir()
    shutil.copy(DATA_DIR / MBPP_FILE, tmp_path / MBPP_FILE)
    with open(tmp_path / MBPP_FILE, "a") as file:
        file.write("\n")
    with caplog.at_level(logging.WARNING, logger="fof_inspect.datasets"):
        assert len(mbpp_dataset(str(tmp_path))) == 427
    assert "sha256" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="fof_inspect.datasets"):
        mbpp_dataset(str(DATA_DIR))
    assert "sha256" not in caplog.text


# --------------------------------------------------------------- reference solutions


@pytest.mark.slow
def test_all_reference_solutions_pass(humaneval: list[Sample], mbpp: list[Sample]) -> None:
    """prefix + reference + tests must pass for every sample, or the grader contract is wrong."""
    programs = {
        str(s.id): meta(s)["prefix"] + "\n" + meta(s)["reference"] + "\n" + meta(s)["tests"] + "\n"
        for s in [*humaneval, *mbpp]
    }
    assert len(programs) == 164 + 427
    assert run_programs(programs) == {}


@pytest.mark.slow
def test_wrong_candidate_fails(humaneval: list[Sample], mbpp: list[Sample]) -> None:
    """The tests really test: a stub that returns None fails (guards against a no-op harness)."""
    samples = [humaneval[0], mbpp[0]]
    programs = {
        str(s.id): meta(s)["prefix"]
        + "\n"
        + f"def {meta(s)['entry_point']}(*args):\n    return None\n"
        + "\n"
        + meta(s)["tests"]
        + "\n"
        for s in samples
    }
    assert set(run_programs(programs)) == {str(s.id) for s in samples}
