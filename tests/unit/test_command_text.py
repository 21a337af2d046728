"""What a command receives from Slack by its app.yaml `should_escape`: escaped forms carry IDs,
unescaped text is what was typed (bot.slack.payloads.as_typed, which the sandbox's driver uses to
send unescaped commands as Slack does)."""

from __future__ import annotations

from bot.slack.payloads import as_typed, channel_ref


def test_escaped_forms_read_back_as_typed() -> None:
    names = {"U0REP2": "rita"}
    text = (
        "owner acme <@U0REP2|rita> <@U0REP2> <#C0SALES|sales> <#C0EMEA> "
        "<mailto:a@b.co|a@b.co> <http://acme.com|acme.com> <https://x.io/p?q=1>"
    )
    typed = as_typed(text, user_name=names.__getitem__, channel_name=lambda c: c.lower())
    assert typed == "owner acme @rita @rita #sales #c0emea a@b.co acme.com https://x.io/p?q=1"


def test_special_mentions_and_plain_text_stay() -> None:
    assert as_typed("budget <!channel> & <!here> a<b") == "budget <!channel> & <!here> a<b"
    assert as_typed("") == ""


def test_only_the_escaped_channel_form_names_a_channel() -> None:
    assert channel_ref("<#C0EMEA|emea>") == "C0EMEA"
    assert channel_ref("#emea") is None  # what an unescaped command gets: no ID to read
