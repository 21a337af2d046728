"""Slack's form bodies decode to what urllib's parse_qsl gives (bot/slack/form_body.py uses yarl's
unquoter in C instead): valid escapes, invalid ones, bytes that are not UTF-8, "+" and "%2B",
blank and repeated fields."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack import form_body
from bot.slack.form_body import form_fields


def reference(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("utf-8", errors="strict"), keep_blank_values=True))


def test_the_c_unquoter_is_in_use() -> None:
    # without it the module falls back to parse_qsl: correct, but the speed-up is gone
    assert form_body._unquote is not None


# pieces a form body is made of, valid or not: escapes of every byte (so broken UTF-8 too),
# stray "%", "+", separators, and text that is not ASCII
piece = st.one_of(
    st.integers(0, 255).map(lambda b: f"%{b:02X}"),
    st.integers(0, 255).map(lambda b: f"%{b:02x}"),
    st.sampled_from(["%", "%2", "%zz", "%G0", "+", "=", "&", "&&", ";", "%2B", "%26", "%3D", "%25"]),
    st.text(min_size=1, max_size=4),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(piece, max_size=40))
def test_any_body_decodes_as_parse_qsl_does(pieces: list[str]) -> None:
    body = "".join(pieces).encode()
    assert form_fields(body) == reference(body)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.text(max_size=30), max_size=6))
def test_encoded_fields_come_back(fields: dict[str, str]) -> None:
    body = urlencode(fields).encode()
    assert form_fields(body) == reference(body)


def test_an_interaction_payload() -> None:
    payload = {"type": "block_actions", "message": {"text": "Ann · Ünïcode & co = 100% +1"}}
    body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()
    assert json.loads(form_fields(body)["payload"]) == payload


def test_a_body_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(UnicodeDecodeError):
        form_fields(b"text=\xff")
