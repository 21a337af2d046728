"""HubSpot → Handoff: a workflow's "Send a webhook" becomes a card, signed with X-HubSpot-Signature-v3;
the attacker's tests: no or bad signature, stale timestamp, replay, oversized body, not JSON."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest

from bot.domain.hubspot import signature_v3
from bot.sandbox import visible_text
from tests.conftest import SALES, make_settings

APP_SECRET = "hubspot-app-secret-5b1e"
CONTACT = {
    "objectId": 5101,
    "properties": {
        "email": {"value": "jane@acme.com"},
        "firstname": {"value": "Jane"},
        "lastname": {"value": "Doe"},
        "company": {"value": "Acme"},
        "hubspotscore": {"value": "72"},
        "lifecyclestage": {"value": "marketingqualifiedlead"},
    },
}


@pytest.fixture
def settings(database_url, fake_slack):
    return make_settings(
        database_url,
        fake_slack,
        hubspot_app_secret=APP_SECRET,
        hubspot_field_map="lifecyclestage=fields.stage",
    )


async def post(
    bot, body: bytes, *, secret: str = APP_SECRET, age_ms: int = 0, sign: bool = True, headers=None
):
    url = f"{bot.url}/api/hubspot/leads"
    stamp = str(int(time.time() * 1000) - age_ms)
    hdrs = {"Content-Type": "application/json"}
    if sign:
        hdrs["X-HubSpot-Request-Timestamp"] = stamp
        hdrs["X-HubSpot-Signature-v3"] = signature_v3(secret, "POST", url, body, stamp)
    hdrs.update(headers or {})
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=hdrs) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_a_workflow_webhook_becomes_one_card_and_again_no_second(bot) -> None:
    body = json.dumps(CONTACT).encode()
    status, result = await post(bot, body)
    assert status == 201 and result["external_id"] == "hubspot:5101", result
    await bot.flush()
    [card] = bot.fake.messages(SALES)
    assert "Jane Doe · Acme" in visible_text(card.blocks)
    status, again = await post(bot, body)  # the workflow fires again: a new signature, the same record
    assert status == 200 and again["status"] == "duplicate" and again["id"] == result["id"]
    flat = {"hs_object_id": "5102", "email": "bo@beta.io", "firstname": "Bo"}
    status, other = await post(bot, json.dumps(flat).encode())
    assert status == 201 and other["external_id"] == "hubspot:5102"


async def test_refused_requests_make_no_lead(bot) -> None:
    body = json.dumps(CONTACT).encode()
    assert (await post(bot, body, sign=False))[0] == 401
    assert (await post(bot, body, secret="not-the-secret"))[0] == 401
    assert (await post(bot, body, age_ms=6 * 60 * 1000))[0] == 401
    assert (await post(bot, body, headers={"X-HubSpot-Request-Timestamp": "soon"}))[0] == 401
    status, _ = await post(bot, b"x" * (1024 * 1024 + 1))
    assert status == 413
    assert (await post(bot, b"{not json"))[0] == 400
    status, result = await post(bot, json.dumps({"firstname": "No email"}).encode())
    assert status == 422 and "email" in result["errors"]
    await bot.flush()
    assert bot.fake.messages(SALES) == []


async def test_a_replayed_request_is_refused(bot) -> None:
    url = f"{bot.url}/api/hubspot/leads"
    body = json.dumps(CONTACT).encode()
    stamp = str(int(time.time() * 1000))
    hdrs = {
        "Content-Type": "application/json",
        "X-HubSpot-Request-Timestamp": stamp,
        "X-HubSpot-Signature-v3": signature_v3(APP_SECRET, "POST", url, body, stamp),
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=hdrs) as first:
            assert first.status == 201
        async with session.post(url, data=body, headers=hdrs) as replay:
            assert replay.status == 401 and "already received" in (await replay.json())["error"]


async def test_the_door_is_closed_without_an_app_secret(engine, fake_slack, clock, database_url) -> None:
    from tests.conftest import serve_bot

    async with serve_bot(engine, fake_slack, clock, make_settings(database_url, fake_slack)) as bot:
        assert (await post(bot, json.dumps(CONTACT).encode()))[0] == 404
