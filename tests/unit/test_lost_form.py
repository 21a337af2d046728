"""The DM for a form Slack closed before its errors could be shown: the errors by field label,
what the person entered as they saw it, and nothing in it read as markup."""

from __future__ import annotations

from typing import Any

from bot.slack.lost_form import MAX_TEXT, lost_form_text


def label(block_id: str, text: str) -> dict[str, Any]:
    return {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": text}}


def untitled_form(fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A view without a title whose inputs are labelled as named, each with its element's state."""
    return {
        "blocks": [label(name.lower(), name) for name in fields],
        "state": {"values": {name.lower(): {"element": state} for name, state in fields.items()}},
    }


def option(text: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": text.lower()}


VIEW: dict[str, Any] = {
    "title": {"type": "plain_text", "text": "Hand back <a lead>"},
    "blocks": [
        label("reason", "Reason"),
        label("owner", "New owner"),
        label("tags", "Tags"),
        label("note", "Note"),
    ],
    "state": {
        "values": {  # Slack's order is not the form's
            "note": {"n": {"type": "plain_text_input", "value": "call <!here>\nthen & *now*"}},
            "tags": {
                "t": {"type": "multi_static_select", "selected_options": [option("Hot"), option("<b>")]}
            },
            "owner": {"o": {"type": "users_select", "selected_user": "U0REP2"}},
            "reason": {"r": {"type": "static_select", "selected_option": option("Wrong team")}},
        }
    },
}


def test_errors_by_label_then_what_was_entered_in_the_forms_order() -> None:
    text = lost_form_text(VIEW, {"owner": "Pick someone in sales", "form": "Try again later"})
    lines = text.splitlines()
    assert lines[0].startswith("Slack closed *Hand back &lt;a lead&gt;* before I could answer")
    assert lines[1:3] == ["• *New owner*: Pick someone in sales", "• *The form*: Try again later"]
    assert lines[3] == "What you entered:"
    assert lines[4:10] == [
        "• *Reason*: Wrong team",
        "• *New owner*: <@U0REP2>",
        "• *Tags*: Hot, &lt;b&gt;",
        "• *Note*:",
        ">call &lt;!here&gt;",
        ">then &amp; *now*",
    ]
    assert lines[-1].startswith("Open the form again")


def test_a_forged_id_is_text_not_a_mention() -> None:
    view = untitled_form(
        {
            "Who": {"type": "users_select", "selected_user": "U1><!channel"},
            "Where": {"type": "channels_select", "selected_channel": "C0SALES"},
        }
    )
    text = lost_form_text(view, {"who": "?"})
    assert "<!channel" not in text and "U1>" not in text
    assert "• *Where*: <#C0SALES>" in text
    assert "*the form*" in text  # a view without a title


def test_empty_fields_are_left_out_and_a_long_form_is_cut() -> None:
    view = untitled_form(
        {
            "A": {"type": "plain_text_input", "value": "  "},
            "B": {"type": "plain_text_input", "value": "z" * 10_000},
        }
    )
    text = lost_form_text(view, {"b": "too long"})
    assert "*A*" not in text
    assert len(text) == MAX_TEXT and "z…\nOpen the form again" in text
