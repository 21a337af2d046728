"""Parsing what arrives from outside (HTTP bodies and headers) without surprises: only ASCII digits
make a number, and JSON nests at most MAX_JSON_DEPTH deep.

Python's own parsers are too generous for the wire: `"²".isdigit()` is true but `int("²")` fails,
`int("١٢")` is 12, and `json.loads` of a few thousand `[` raises RecursionError (a 500 at the edge).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_JSON_DEPTH = 64  # Slack's deepest payloads (a message's blocks inside a click) nest about 12 deep

_ASCII_DIGITS = re.compile(r"[0-9]+")
_STRING = re.compile(rb'"[^"]*"')
_BRACKETS = b"[]{}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)
_STEP = [1 if bytes([b]) in b"[{" else -1 for b in range(256)]


class TooDeep(ValueError):
    """The JSON nests deeper than allowed (a ValueError, like every other malformed JSON)."""


def ascii_int(text: str, *, max_digits: int) -> int | None:
    """The number `text` spells in ASCII digits only, or None (signs, spaces, "²" and "١" are not)."""
    if len(text) > max_digits or not _ASCII_DIGITS.fullmatch(text):
        return None
    return int(text)


def json_depth(data: bytes | str) -> int:
    """How deep the arrays and objects in a JSON text nest, without parsing it (linear time).

    Strings are cut out first so brackets inside them do not count: escaped backslashes go, then
    escaped quotes, then every "…" (what is left of each string holds no quote)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    bare = _STRING.sub(b"", raw.replace(b"\\\\", b"").replace(b'\\"', b""))
    brackets = bare.translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def loads(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads for untrusted input: ValueError (TooDeep, JSONDecodeError, …) on anything bad,
    never RecursionError. Over-long integers are a ValueError already (Python's digit limit)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    # fewer openings than the limit cannot nest past it: most bodies skip the scan
    if raw.count(b"[") + raw.count(b"{") > max_depth and json_depth(raw) > max_depth:
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    return json.loads(data)
