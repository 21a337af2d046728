"""Salesforce → Handoff: a Flow's HTTP callout becomes a card, deduped by the Lead Id; the
attacker's tests: no, bad or wrong-door credentials, oversized, not JSON, wrong types, a bad Id,
injection text escaped on the card; 4xx with field errors, never a 500."""

from __future__ import annotations

import json
import re

import pytest

from bot.domain.api_tokens import sign
from bot.sandbox import visible_text
from tests.conftest import ADMIN, INTAKE_TOKEN, SALES, make_settings
from tests.scenario.helpers_intake import api

INBOUND = "sf-flow-callout-Zq7Rk2Wm9Tx4Vb8Nc3Lp"
PATH = "/api/salesforce/leads"
LEAD = {
    "Id": "00Q5e00000AbCdEFGH",
    "Email": "jane@acme.com",
    "FirstName": "Jane",
    "LastName": "Doe",
    "Company": "Acme",
    "LeadSource": "Web",
    "Industry": "Manufacturing",
    "Rating": "Warm",
}


@pytest.fixture
def settings(database_url, fake_slack):
    return make_settings(
        database_url,
        fake_slack,
        salesforce_inbound_token=INBOUND,
        salesforce_field_map="Rating=fields.sf_rating, Industry=",
    )


async def post(bot, body=None, *, raw: bytes | None = None, token: str | None = INBOUND, headers=None):
    return await api(bot, body, raw=raw, token=token, headers=headers, path=PATH)


async def test_a_flow_callout_becomes_one_card_and_again_no_second(bot) -> None:
    status, result, _ = await post(bot, LEAD)
    assert status == 201 and result["external_id"] == "salesforce:00Q5e00000AbCdEFGH", result
    await bot.flush()
    [card] = bot.fake.messages(SALES)
    text = visible_text(card.blocks)
    assert "Jane Doe · Acme" in text and "*Source / campaign*\nweb" in text
    assert "Manufacturing" not in text  # Industry= took it out of the mapping
    status, again, _ = await post(bot, {"lead": LEAD})  # the Flow fires again (or a replay)
    assert status == 200 and again["status"] == "duplicate" and again["id"] == result["id"]
    await bot.flush()
    assert len(bot.fake.messages(SALES)) == 1
    [team] = await bot.handoff.team_ids()
    async with bot.handoff.uow() as uow:
        lead = await uow.leads.get(team, result["id"])
        assert lead is not None
        assert lead.fields == {"sf_rating": "Warm", "salesforce_id": "00Q5e00000AbCdEFGH"}
        assert lead.intake_channel == "salesforce"


async def test_refused_requests_make_no_lead(bot) -> None:
    assert (await post(bot, LEAD, token=None))[0] == 401
    assert (await post(bot, LEAD, token="sf-flow-callout-Zq7Rk2Wm9Tx4Vb8Nc3Lq"))[0] == 401
    assert (await post(bot, LEAD, token=INTAKE_TOKEN))[0] == 401  # the lead API's shortcut: not here
    assert (await post(bot, LEAD, headers={"Authorization": f"Basic {INBOUND}"}))[0] == 401
    status, _, headers = await post(bot, LEAD, token="")
    assert status == 401 and "WWW-Authenticate" in headers
    assert (await post(bot, raw=b"x" * (1024 * 1024 + 1)))[0] == 413
    assert (await post(bot, raw=b"{not json"))[0] == 400
    assert (await post(bot, raw=b"\xff\xfe"))[0] == 400
    assert (await post(bot, raw=b"[" * 5000 + b"]" * 5000))[0] == 400
    assert (await post(bot, raw=json.dumps(LEAD).encode(), headers={"Content-Type": "text/plain"}))[0] == 415
    await bot.flush()
    assert bot.fake.messages(SALES) == []


async def test_wrong_shapes_get_field_errors_named_as_in_salesforce(bot) -> None:
    cases = [
        ([LEAD], "lead"),
        ("a string", "lead"),
        ({**LEAD, "Id": "not-a-lead-id"}, "Id"),
        ({**LEAD, "Id": 42}, "Id"),
        ({**LEAD, "Id": "001000000000001AAA"}, "Id"),  # an Account's Id, not a Lead's
        ({k: v for k, v in LEAD.items() if k != "Id"}, "Id"),
        ({**LEAD, "Email": "not an email"}, "Email"),
        ({**LEAD, "Email": ["jane@acme.com"]}, "Email"),
        ({**LEAD, "Email": None}, "Email"),
        ({**LEAD, "Company": {"nested": True}}, "Company"),
        ({**LEAD, "FirstName": "x" * 5000}, "FirstName"),
    ]
    for body, field in cases:
        status, result, _ = await post(bot, body)
        assert status == 422, (body, result)
        assert field in result["errors"], (body, result)
    await bot.flush()
    assert bot.fake.messages(SALES) == []


async def test_injection_text_stays_text_on_the_card(bot) -> None:
    body = {
        **LEAD,
        "FirstName": "<!channel>",
        "LastName": "<@U0ADMIN> & co",
        "Company": "<https://evil.example|Acme>",
    }
    status, _, _ = await post(bot, body)
    assert status == 201
    await bot.flush()
    [card] = bot.fake.messages(SALES)
    # mrkdwn (the fallback text, sections, context) shows it escaped; the header is plain_text
    mrkdwn = [card.text] + [t for t in _mrkdwn_texts(card.blocks)]
    assert mrkdwn and all(
        "<!channel>" not in t and "<@U0ADMIN>" not in t and "<https://evil" not in t for t in mrkdwn
    )
    assert any("&lt;!channel&gt;" in t for t in mrkdwn)


def _mrkdwn_texts(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["text"]] if node.get("type") == "mrkdwn" else []
        return found + [t for v in node.values() for t in _mrkdwn_texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _mrkdwn_texts(v)]
    return []


async def test_a_workspace_token_and_a_signed_request_work_too(bot) -> None:
    reply = await bot.slack.command(ADMIN, "/handoff", "tokens create salesforce")
    [token] = re.findall(r"hnd_[A-Za-z0-9_-]{43}", reply.text)
    status, result, _ = await post(bot, LEAD, token=token)
    assert status == 201, result
    raw = json.dumps({**LEAD, "Id": "00Q5e00000AbCdEFGI", "Email": "bo@beta.io"}).encode()
    stamp = str(int(bot.clock.now().timestamp()))
    signed = {"X-Handoff-Signature": sign(INBOUND, raw, stamp), "X-Handoff-Timestamp": stamp}
    status, result, _ = await post(bot, raw=raw, token=None, headers=signed)
    assert status == 201, result
    status, replay, _ = await post(bot, raw=raw, token=None, headers=signed)
    assert status == 401 and "already received" in replay["error"]
    old = str(int(bot.clock.now().timestamp()) - 600)
    stale = {"X-Handoff-Signature": sign(INBOUND, raw, old), "X-Handoff-Timestamp": old}
    assert (await post(bot, raw=raw, token=None, headers=stale))[0] == 401


async def test_without_a_token_setting_only_workspace_tokens_open_it(
    engine, fake_slack, clock, database_url
) -> None:
    from tests.conftest import serve_bot

    async with serve_bot(engine, fake_slack, clock, make_settings(database_url, fake_slack)) as bot:
        assert (await post(bot, LEAD))[0] == 401
        assert (await post(bot, LEAD, token=INTAKE_TOKEN))[0] == 401


async def test_the_openapi_description_registers_as_an_external_service(bot) -> None:
    status, doc, _ = await api(bot, token=None, method="GET", path="/api/salesforce/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.0")
    schema = doc["paths"][PATH]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"Id", "Email", "FirstName", "Rating"} <= set(schema["properties"])  # Rating: the map adds it
    assert "Industry" not in schema["properties"]  # and removes this one
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
