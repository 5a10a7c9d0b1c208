"""extract_code on the kinds of completions small chat models actually produce."""

from __future__ import annotations

import ast
import time

import pytest

from fof_inspect.grading.extract import defines_function, extract_code

ADD = "def add(a, b):\n    return a + b"


def fence(code: str, lang: str = "python") -> str:
    return f"```{lang}\n{code}\n```"


# --------------------------------------------------------------- fenced


@pytest.mark.parametrize("lang", ["python", "py", "Python", "python3", ""])
def test_fenced_languages(lang: str) -> None:
    completion = f"Here is the solution:\n\n{fence(ADD, lang)}\n\nThis returns the sum."
    assert extract_code(completion, "add") == ADD


def test_fence_with_info_after_language() -> None:
    assert extract_code(f"```python title=solution.py\n{ADD}\n```", "add") == ADD


def test_tilde_fence() -> None:
    assert extract_code(f"~~~python\n{ADD}\n~~~") == ADD


def test_unterminated_fence_truncated_generation() -> None:
    completion = "Sure!\n```python\nimport math\n\ndef add(a, b):\n    return a + b\n"
    assert extract_code(completion, "add") == "import math\n\ndef add(a, b):\n    return a + b"


def test_closing_fence_glued_to_last_line() -> None:
    assert extract_code("```python\ndef add(a, b):\n    return a + b```", "add") == ADD


def test_fence_keeps_imports_and_helpers() -> None:
    code = (
        "from typing import List\n\n\n"
        "def _helper(x):\n    return x * 2\n\n\n"
        "def double_all(xs: List[int]) -> List[int]:\n    return [_helper(x) for x in xs]"
    )
    assert extract_code(f"Solution:\n{fence(code)}\nDone.", "double_all") == code


def test_crlf_line_endings() -> None:
    assert extract_code("Here:\r\n```python\r\ndef add(a, b):\r\n    return a + b\r\n```\r\n", "add") == ADD


# --------------------------------------------------------------- several blocks


def test_prefers_block_defining_entry_point_over_longer_usage_example() -> None:
    usage = "# Example usage\nprint(add(1, 2))\nprint(add(3, 4))\nprint(add(5, 6))\nprint(add(7, 8))\nprint(add(9, 10))"
    completion = f"{fence(usage)}\n\nThe function:\n\n{fence(ADD)}"
    assert extract_code(completion, "add") == ADD


def test_last_defining_block_wins_after_a_correction() -> None:
    wrong = "def add(a, b):\n    return a - b"
    completion = f"First try:\n{fence(wrong)}\nOops, that subtracts. Corrected:\n{fence(ADD)}"
    assert extract_code(completion, "add") == ADD


def test_defining_block_that_parses_beats_later_broken_one() -> None:
    broken = "def add(a, b)\n    return a + b"
    assert extract_code(f"{fence(ADD)}\nor shorter:\n{fence(broken)}", "add") == ADD


def test_without_entry_point_takes_longest_parsing_block() -> None:
    long_code = "import math\n\ndef area(r):\n    return math.pi * r ** 2"
    completion = f"{fence('x = 1')}\n{fence(long_code)}\n{fence('def broken(:')}"
    assert extract_code(completion) == long_code


def test_entry_point_not_defined_anywhere_falls_back_to_longest_parsing_block() -> None:
    completion = f"{fence('y = 2')}\n{fence(ADD)}"
    assert extract_code(completion, "subtract") == ADD


def test_non_python_fences_are_ignored() -> None:
    completion = (
        f"Install first:\n{fence('pip install numpy', 'bash')}\n\nThen:\n{fence(ADD)}\n\nOutput:\n{fence('3', 'text')}"
    )
    assert extract_code(completion, "add") == ADD


def test_output_block_only_and_unfenced_code() -> None:
    completion = f"def add(a, b):\n    return a + b\n\nRunning it prints:\n{fence('[1, 2]', '')}"
    assert extract_code(completion, "add") == ADD


def test_fenced_usage_example_but_function_unfenced() -> None:
    completion = f"def add(a, b):\n    return a + b\n\nUsage:\n{fence('print(add(1, 2))')}"
    assert extract_code(completion, "add") == ADD


def test_new_fence_opened_before_previous_closed() -> None:
    completion = f"```python\nprint('draft')\n```python\n{ADD}\n```"
    assert extract_code(completion, "add") == ADD


# --------------------------------------------------------------- unfenced


def test_unfenced_with_prose_before_and_after() -> None:
    completion = (
        "Sure! Here's a Python function that adds two numbers:\n\n"
        f"{ADD}\n\n"
        "This function takes two arguments and returns their sum. It's O(1)."
    )
    assert extract_code(completion, "add") == ADD


def test_unfenced_with_decorator_imports_and_main_guard() -> None:
    code = (
        "import functools\n\n@functools.lru_cache(maxsize=None)\ndef fib(n):\n"
        "    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n"
        "if __name__ == '__main__':\n    print(fib(10))"
    )
    completion = f"The memoized version:\n\n{code}\n\nExplanation: caching avoids recomputation."
    assert extract_code(completion, "fib") == code


def test_unfenced_prose_with_colon_and_apostrophes() -> None:
    completion = "Note: here's what I'd do.\n\ndef add(a, b):\n    return a + b\nThat's all!"
    assert extract_code(completion, "add") == ADD


def test_unfenced_picks_span_defining_entry_point() -> None:
    completion = "First a helper test:\n\nprint(len('abc'))\n\nNow the function itself:\n\n" + ADD + "\n\nDone."
    assert extract_code(completion, "add") == ADD


def test_code_only_completion() -> None:
    assert extract_code(ADD + "\n", "add") == ADD


# --------------------------------------------------------------- body only


def test_body_only_keeps_indentation() -> None:
    body = "    total = 0\n    for x in numbers:\n        total += x\n    return total"
    assert extract_code(body + "\n", "sum_all") == body


def test_body_only_in_fence_keeps_indentation() -> None:
    body = "    if not numbers:\n        return None\n    return max(numbers)"
    assert extract_code(fence(body), "largest") == body


def test_body_only_unfenced_after_prose() -> None:
    body = "    return sorted(set(l))"
    completion = f"You only need one line:\n\n{body}\n\nIt removes duplicates and sorts."
    assert extract_code(completion, "unique") == body


# --------------------------------------------------------------- reasoning


def test_think_block_removed_even_if_it_contains_code() -> None:
    draft = fence("def add(a, b):\n    return 0")
    completion = f"<think>\nMaybe:\n{draft}\nNo, wrong.\n</think>\n\n{fence(ADD)}"
    assert extract_code(completion, "add") == ADD


def test_think_block_unfenced_answer() -> None:
    completion = f"<think>the user wants add(a, b); def add(a, b): return a - b? no</think>\n{ADD}"
    assert extract_code(completion, "add") == ADD


def test_lone_closing_think_tag() -> None:
    completion = f"Okay, let me think about adding numbers.\ndef add(a, b): pass\n</think>\n\n{fence(ADD)}"
    assert extract_code(completion, "add") == ADD


def test_unclosed_think_means_no_answer() -> None:
    assert extract_code("<think>\nLet me write def add(a, b): return a + b ... hmm", "add") is None


# --------------------------------------------------------------- nothing usable


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
    ],
)
def test_no_code_gives_none(completion: str) -> None:
    assert extract_code(completion, "f") is None


def test_fenced_syntax_error_is_still_returned_for_feedback() -> None:
    broken = "def add(a, b)\n    return a + b"
    assert extract_code(f"Here:\n{fence(broken)}", "add") == broken


def test_fenced_prose_is_not_code() -> None:
    completion = fence("This function adds numbers.", "") + "\n\n" + ADD
    assert extract_code(completion, "add") == ADD


def test_long_runaway_completion_is_fast() -> None:
    prose = "\n".join(f"    Step {i}: think (carefully) about it, don't rush." for i in range(1500))
    started = time.perf_counter()
    result = extract_code(prose + "\n\n" + ADD + "\n\n" + prose, "add")
    assert time.perf_counter() - started < 5
    assert result == ADD


def test_extracted_code_parses_for_typical_completions() -> None:
    completions = [
        f"```python\n{ADD}\n```",
        f"Answer:\n{ADD}\nEnd.",
        f"<think>x</think>```py\n{ADD}\n```",
    ]
    for completion in completions:
        code = extract_code(completion, "add")
        assert code is not None
        ast.parse(code)


# --------------------------------------------------------------- defines_function


def test_defines_function() -> None:
    assert defines_function(ADD, "add")
    assert defines_function("async def add(a, b):\n    return a + b", "add")
    assert not defines_function(ADD, "sub")
    assert not defines_function("def add(a, b)\n    return a", "add")  # SyntaxError
    assert not defines_function("class C:\n    def add(self):\n        pass", "add")  # not top level
    assert not defines_function("def outer():\n    def add():\n        pass", "add")
    assert not defines_function("add = lambda a, b: a + b", "add")
    assert not defines_function("", "add")
