"""CSV cells a spreadsheet will not run: text that starts like a formula gets a leading `'`.

A lead named `=HYPERLINK(...)` or `+cmd|' /C calc'!A0` would otherwise be a live formula in the
marketer's Excel or LibreOffice (OWASP "CSV injection"). OWASP's advice: a cell whose first
character is `=`, `+`, `-`, `@`, tab or carriage return is prefixed with a single quote, which
spreadsheets take for "this is text" and do not show. We also look past leading blanks and at the
full-width forms some spreadsheets accept, and quote cells that already start with `'`, so that
undoing it (`restore`, for the importer reading our own export back) is exact.

Only text is touched: real numbers (a score, an amount) stay numbers. A phone number such as
"+44 20 …" is text and is quoted like any other; the spreadsheet still shows "+44 20 …".
"""

from __future__ import annotations

QUOTE = "'"
FORMULA_STARTS = frozenset("=+-@\t\r" + "＝＋－＠")


def neutralise(text: str) -> str:
    """`text` as a cell no spreadsheet evaluates (unchanged when it cannot start a formula)."""
    first = text.lstrip(" \n")[:1]
    if first in FORMULA_STARTS or text.startswith(QUOTE):
        return QUOTE + text
    return text


def restore(cell: str) -> str:
    """What neutralise() was given, for a cell Handoff itself wrote."""
    return cell[1:] if cell.startswith(QUOTE) else cell
