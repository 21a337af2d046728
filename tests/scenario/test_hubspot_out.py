"""Handoff → HubSpot through the outbox, against the fake HubSpot: a claim finds or creates the
contact and sets the owner (Slack email → HubSpot owner), verdicts set the lifecycle stage and
lead status and add a note; HubSpot down for an hour loses and doubles nothing; a 429 waits for
Retry-After; a revoked token tells the admins once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.sandbox.fake_crm import FakeHubSpot
from tests.conftest import ADMIN, REP1, SALES, make_settings, serve_bot
from tests.scenario.helpers_intake import api
from tests.scenario.test_webhooks import deliver

JANE = {"email": "Jane@Acme.com", "name": "Jane Doe", "company": "Acme"}


@pytest.fixture
async def hubspot() -> AsyncIterator[FakeHubSpot]:
    fake = FakeHubSpot()
    fake.add_owner("rob@example.com", "Rob", "Rep")  # the fake Slack's REP1 ("rob")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot(engine, fake_slack, clock, database_url, hubspot):
    settings = make_settings(
        database_url,
        fake_slack,
        hubspot_access_token=hubspot.token,
        hubspot_api_url=hubspot.base_url,
        hubspot_rate=1000,
    )
    async with serve_bot(engine, fake_slack, clock, settings) as running:
        yield running


async def claim_and_accept(bot) -> None:
    await api(bot, JANE)
    await bot.flush()
    assert (await bot.slack.click(REP1, "Claim", channel_id=SALES)).ok
    await deliver(bot)
    await bot.slack.click(REP1, "Accept", channel_id=SALES)
    assert (
        await bot.slack.submit(
            REP1, {"Lead quality": "4 — good", "Comment for marketing": "Budget confirmed"}
        )
    ).ok
    await deliver(bot)


async def test_claim_and_accept_reach_the_contact_with_owner_stage_and_note(bot, hubspot) -> None:
    await claim_and_accept(bot)
    found = hubspot.contact_by_email("jane@acme.com")
    assert found is not None
    contact_id, props = found
    [owner] = hubspot.owners
    assert props["hubspot_owner_id"] == owner
    assert (props["lifecyclestage"], props["hs_lead_status"]) == ("salesqualifiedlead", "OPEN")
    assert (props["firstname"], props["company"]) == ("Jane", "Acme")
    [note] = hubspot.notes_of(contact_id)
    assert "accepted by sales, rating 4/5" in note and "Budget confirmed" in note
    assert len(hubspot.contacts) == 1


async def test_hubspot_down_for_an_hour_loses_and_doubles_nothing(bot, hubspot) -> None:
    hubspot.down = True
    await claim_and_accept(bot)  # deliver() moves the clock on while rows wait
    for _ in range(12):
        bot.clock.advance(minutes=5)
        await bot.flush()
    assert not hubspot.contacts and hubspot.faults_injected >= 4
    hubspot.down = False
    await deliver(bot)
    [(contact_id, props)] = hubspot.contacts.items()
    assert props["lifecyclestage"] == "salesqualifiedlead"
    assert len(hubspot.notes_of(contact_id)) == 1


async def test_a_lost_answer_to_the_note_does_not_write_it_twice(bot, hubspot) -> None:
    await api(bot, JANE)
    await bot.flush()
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await deliver(bot)
    await bot.slack.click(REP1, "Accept", channel_id=SALES)
    await bot.slack.submit(REP1, {"Lead quality": "4 — good"})
    hubspot.lose_answer_to.add("/crm/v3/objects/notes")  # written, but the client sees a 502
    await deliver(bot)
    [(contact_id, _)] = hubspot.contacts.items()
    assert len(hubspot.notes_of(contact_id)) == 1
    assert ("POST", "/crm/v3/objects/notes/search") in hubspot.calls


async def test_429_waits_and_a_revoked_token_alerts_once(bot, hubspot) -> None:
    hubspot.script.append(("429", 30))
    await api(bot, JANE)
    await bot.flush()
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await bot.flush()
    assert hubspot.contacts == {}
    calls = len(hubspot.calls)
    bot.clock.advance(seconds=20)
    await bot.flush()
    assert len(hubspot.calls) == calls  # held until Retry-After
    bot.clock.advance(seconds=11)
    await bot.flush()
    assert len(hubspot.contacts) == 1

    hubspot.revoke()
    await bot.slack.click(REP1, "Release", channel_id=SALES)
    await deliver(bot)
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await deliver(bot)
    alerts = [
        m for m in bot.fake.messages(bot.fake.im_channel(ADMIN)) if "refused Handoff's access token" in m.text
    ]
    assert len(alerts) == 1


async def test_the_card_links_the_contact_once_synced(bot, hubspot) -> None:
    from bot.sandbox import visible_text

    hubspot.down = True
    await api(bot, JANE)
    await bot.flush()
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await bot.flush()
    [card] = bot.fake.messages(SALES)
    assert "CRM sync pending" in visible_text(card.blocks)
    hubspot.down = False
    await deliver(bot)
    [contact_id] = hubspot.contacts
    [card] = bot.fake.messages(SALES)
    assert "CRM sync pending" not in visible_text(card.blocks)
    url = f"https://app.hubspot.com/contacts/{hubspot.portal_id}/record/0-1/{contact_id}"
    assert f"<{url}|HubSpot contact>" in str(card.blocks)
