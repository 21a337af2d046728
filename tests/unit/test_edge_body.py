"""The edge parses each Slack body once and hands Bolt the result: it must be what Bolt itself
would have read, context included."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.edge import parsed_bolt_request, read_body

FORM = "application/x-www-form-urlencoded"
CLICK = {
    "type": "block_actions",
    "team": {"id": "T1"},
    "user": {"id": "U1", "team_id": "T1"},
    "channel": {"id": "C1"},
    "container": {"type": "message", "channel_id": "C1", "message_ts": "1.2"},
    "message": {
        "ts": "1.2",
        "text": "a card",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Jane* & <co>"}}],
    },
    "response_url": "https://hooks.slack.com/actions/T1/1/x",
    "trigger_id": "1.2.abc",
    "actions": [{"action_id": "lead_claim", "block_id": "b", "value": "42", "type": "button"}],
}
SUBMISSION = {
    "type": "view_submission",
    "team": {"id": "T1"},
    "user": {"id": "U1"},
    "view": {"type": "modal", "callback_id": "lead_form", "state": {"values": {"b": {"a": {"value": "x"}}}}},
}
COMMAND = {
    "token": "t",
    "team_id": "T1",
    "user_id": "U1",
    "channel_id": "C1",
    "command": "/lead",
    "text": "jane@acme.com Jane Doe, Acme & Co, 100% webinar",
    "response_url": "https://hooks.slack.com/commands/T1/1/x",
    "trigger_id": "1.2.abc",
}
EVENT = {
    "type": "event_callback",
    "team_id": "T1",
    "event_id": "Ev1",
    "event": {"type": "app_home_opened", "user": "U1", "tab": "home"},
    "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
}

CASES = [
    (urlencode({"payload": json.dumps(CLICK)}), FORM),
    (urlencode({"payload": json.dumps(SUBMISSION)}), FORM),
    (urlencode(COMMAND), FORM),
    (json.dumps(EVENT), "application/json"),
]


@pytest.mark.parametrize(("raw", "content_type"), CASES)
def test_the_edge_reads_a_body_as_bolt_does(raw: str, content_type: str) -> None:
    headers = {"content-type": content_type, "x-slack-signature": "v0=x"}
    parsed, problem = read_body(raw.encode(), content_type)
    assert problem is None
    ours = parsed_bolt_request(raw, parsed, query="", headers=headers)
    bolts = AsyncBoltRequest(body=raw, query="", headers=headers)
    assert ours.body == bolts.body
    assert ours.raw_body == bolts.raw_body
    assert ours.content_type == bolts.content_type
    assert dict(ours.context) == dict(bolts.context)
    assert ours.context.team_id == "T1" and ours.context.user_id == "U1"


def test_a_command_whose_text_says_payload_keeps_its_fields() -> None:
    # Bolt reads any form body containing "payload" as an interaction, and this one as empty
    raw = urlencode({**COMMAND, "text": "payload@acme.com Pay Load"})
    parsed, problem = read_body(raw.encode(), FORM)
    assert problem is None and parsed["command"] == "/lead" and parsed["text"].startswith("payload@")


@pytest.mark.parametrize(
    ("raw", "content_type", "why"),
    [
        (b"{not json", "application/json", "body is not JSON"),
        (b"[1, 2]", "application/json", "no payload type"),
        (urlencode({"payload": "{nope"}).encode(), FORM, "payload is not JSON"),
        (urlencode({"payload": json.dumps({**CLICK, "actions": []})}).encode(), FORM, "without actions"),
        (urlencode({"payload": json.dumps({**CLICK, "user": "U1"})}).encode(), FORM, "user is not an object"),
        (b"text=\xff\xfe", FORM, "not UTF-8"),
    ],
)
def test_bodies_not_shaped_like_slack_are_refused_with_a_reason(
    raw: bytes, content_type: str, why: str
) -> None:
    _, problem = read_body(raw, content_type)
    assert problem is not None and why in problem
