"""Parsing untrusted input: ASCII digits only, JSON nesting bounded without recursion."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.untrusted import MAX_JSON_DEPTH, TooDeep, ascii_int, json_depth, loads


@pytest.mark.parametrize("text", ["²", "١٢", "１２", "+1", "-1", " 1", "1 ", "1\n", "1_000", "", "1e3"])
def test_ascii_int_refuses_everything_but_ascii_digits(text: str) -> None:
    assert ascii_int(text, max_digits=12) is None


def test_ascii_int_reads_digits_up_to_the_limit() -> None:
    assert ascii_int("0017", max_digits=4) == 17
    assert ascii_int("12345", max_digits=4) is None


def test_brackets_inside_strings_and_escapes_do_not_count() -> None:
    assert json_depth(json.dumps({"a": "[[[{{{", "b": ['\\"[[', "\\\\", "x\\"]})) == 2
    assert json_depth(r'{"a\\":[1]}') == 2


def test_depth_limit_is_exact_and_deep_input_is_a_value_error_not_recursion() -> None:
    assert loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    with pytest.raises(TooDeep):
        loads("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    with pytest.raises(ValueError):
        loads(b'{"a":' * 100_000)  # unterminated, far past the recursion limit


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab', max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\', max_size=4), inner)
    ),
    max_leaves=20,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@given(value=json_values)
def test_depth_matches_the_parsed_value(value: object) -> None:
    assert json_depth(json.dumps(value)) == _depth(value)
    assert loads(json.dumps(value)) == value
