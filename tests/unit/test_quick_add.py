"""The `/lead <text>` parser."""

from __future__ import annotations

import pytest

from bot.domain.quick_add import QuickAddError, parse_quick_add


def test_the_documented_example() -> None:
    assert parse_quick_add("jane@acme.com Jane Doe, Acme, webinar") == {
        "email": "jane@acme.com",
        "name": "Jane Doe",
        "company": "Acme",
        "source": "webinar",
    }


def test_email_anywhere_and_key_values() -> None:
    got = parse_quick_add(
        'Jane Doe, Acme, webinar, spring jane@acme.com score=80 title="VP Sales" region=emea'
    )
    assert got == {
        "email": "jane@acme.com",
        "name": "Jane Doe",
        "company": "Acme",
        "source": "webinar",
        "campaign": "spring",
        "score": "80",
        "title": "VP Sales",
        "region": "emea",
    }


def test_slack_escapes_and_mailto_links_are_undone() -> None:
    got = parse_quick_add("<mailto:bo@x.io|bo@x.io> Bo &amp; Co, “A&lt;B&gt;”")
    assert got["email"] == "bo@x.io" and got["name"] == "Bo & Co" and got["company"] == '"A<B>"'


def test_quoted_pair_with_smart_quotes() -> None:
    assert parse_quick_add("a@b.co “notes=met at booth 4”")["notes"] == "met at booth 4"


def test_only_an_email() -> None:
    assert parse_quick_add("  a@b.co  ") == {"email": "a@b.co"}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Jane Doe, Acme", "no email"),
        ("", "no email"),
        ("a@b.co c@d.co", "more than one"),
        ("a@b.co n, c, s, camp, extra", "too many"),
        ("a@b.co colour=blue", "unknown field"),
    ],
)
def test_unparseable(text: str, why: str) -> None:
    with pytest.raises(QuickAddError, match=why):
        parse_quick_add(text)
