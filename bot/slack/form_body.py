"""Slack's form-encoded bodies (slash commands, interactions), decoded as urllib's `parse_qsl`
decodes them, but with yarl's unquoter in C.

An interaction's body is one field, `payload`, holding the whole JSON of the click (the message
and its blocks included): hundreds of percent-escapes, which `parse_qsl` decodes one at a time in
Python — 6–8 % of a Claim's samples (py-spy), 20 times what yarl's unquoter (aiohttp's own dependency,
pinned in requirements.lock) takes. Its results are `parse_qsl`'s, invalid escapes and UTF-8
included: tests/unit/test_form_body.py compares the two on generated bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

try:
    from yarl._quoting import _Unquoter

    # `plus`: "+" is a space, as in any form body; `replace_invalid`: bytes that are not UTF-8
    # become U+FFFD, as urllib's errors="replace" does
    _unquote: Callable[[str], str] | None = _Unquoter(plus=True, replace_invalid=True)
except (ImportError, TypeError):  # pragma: no cover - a yarl without it: the standard library's
    _unquote = None


def form_fields(body: bytes) -> dict[str, str]:
    """The fields of an `application/x-www-form-urlencoded` body, blank values kept, the last of a
    repeated name winning (as `dict(parse_qsl(..., keep_blank_values=True))`). Raises
    UnicodeDecodeError when the body itself is not UTF-8."""
    text = body.decode("utf-8", errors="strict")
    if _unquote is None:
        return dict(parse_qsl(text, keep_blank_values=True))
    fields: dict[str, str] = {}
    for pair in text.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            fields[_unquote(name)] = _unquote(value)
    return fields
