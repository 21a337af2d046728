"""Handoff → Salesforce through the outbox, against the fake Salesforce: a claim finds or creates
the Lead and sets the owner (Slack email → active User), verdicts set Status and Rating and log a
Task once; the token is fetched by the client credentials flow and fetched again once on 401;
Salesforce down for an hour loses and doubles nothing; REQUEST_LIMIT_EXCEEDED holds every call;
refused credentials tell the admins once; the card shows "CRM sync pending", then the Lead's link."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.domain.outbox import Purpose
from bot.sandbox import visible_text
from bot.sandbox.fake_crm import FakeSalesforce
from tests.conftest import ADMIN, REP1, SALES, make_settings, serve_bot
from tests.scenario.helpers_intake import api
from tests.scenario.test_webhooks import deliver

JANE = {"email": "Jane@Acme.com", "name": "Jane Doe", "company": "Acme"}


@pytest.fixture
async def salesforce() -> AsyncIterator[FakeSalesforce]:
    fake = FakeSalesforce()
    fake.add_user("rob@example.com", "Rob Rep")  # the fake Slack's REP1 ("rob")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot(engine, fake_slack, clock, database_url, salesforce):
    settings = make_settings(
        database_url,
        fake_slack,
        salesforce_login_url=salesforce.base_url,
        salesforce_client_id=salesforce.client_id,
        salesforce_client_secret=salesforce.client_secret,
        salesforce_rate=1000,
    )
    async with serve_bot(engine, fake_slack, clock, settings) as running:
        yield running


async def claim(bot) -> int:
    _, made, _ = await api(bot, JANE)
    await bot.flush()
    assert (await bot.slack.click(REP1, "Claim", channel_id=SALES)).ok
    return int(made["id"])


async def accept(bot, comment: str = "Budget confirmed") -> None:
    await bot.slack.click(REP1, "Accept", channel_id=SALES)
    answers = {"Lead quality": "4 — good"}
    if comment:
        answers["Comment for marketing"] = comment
    assert (await bot.slack.submit(REP1, answers)).ok


def card_text(bot) -> str:
    [card] = bot.fake.messages(SALES)
    return visible_text(card.blocks)


async def test_claim_and_accept_update_the_lead_and_log_one_task(bot, salesforce) -> None:
    await claim(bot)
    await deliver(bot)
    found = salesforce.lead_by_email("jane@acme.com")
    assert found is not None
    lead_id, fields = found
    [rob] = salesforce.users
    assert fields["OwnerId"] == rob
    assert (fields["LastName"], fields["FirstName"], fields["Company"]) == ("Doe", "Jane", "Acme")
    assert fields["Status"] == "Open - Not Contacted"
    assert salesforce.tasks == {}  # a claim logs no Task
    await accept(bot)
    await deliver(bot)
    assert (fields["Status"], fields["Rating"]) == ("Working - Contacted", "Hot")
    [task] = salesforce.tasks_of(lead_id)
    assert task["Subject"].startswith("Handoff: accepted by sales, rating 4/5 [handoff")
    assert "Comment: Budget confirmed" in task["Description"]
    assert (task["Status"], task["OwnerId"]) == ("Completed", rob)
    assert len(salesforce.leads) == 1
    assert salesforce.tokens_issued == 1  # cached between calls
    # the second sync wrote to the stored Lead Id: no second search by email
    assert sum("FROM Lead" in q for q in salesforce.queries) == 1


async def test_an_existing_lead_is_found_by_email_and_a_rejection_closes_it(bot, salesforce) -> None:
    existing = salesforce.add_lead(Email="jane@acme.com", LastName="Doe", Company="Acme Corp")
    await claim(bot)
    await deliver(bot)
    await bot.slack.click(REP1, "Reject", channel_id=SALES)
    assert (await bot.slack.submit(REP1, {"Reason": "Not our ICP", "Lead quality": "1 — poor"})).ok
    await deliver(bot)
    assert list(salesforce.leads) == [existing]
    assert salesforce.leads[existing]["Status"] == "Closed - Not Converted"
    assert salesforce.leads[existing]["Rating"] == "Cold"
    assert salesforce.leads[existing]["Company"] == "Acme Corp"  # found, not overwritten
    [task] = salesforce.tasks_of(existing)
    assert "rejected by sales" in task["Subject"]


async def test_the_card_says_sync_pending_then_links_the_lead(bot, salesforce) -> None:
    salesforce.down = True
    await claim(bot)
    for _ in range(3):
        bot.clock.advance(seconds=30)
        await bot.flush()
    assert "CRM sync pending" in card_text(bot)
    assert "Salesforce Lead" not in card_text(bot)
    salesforce.down = False
    await deliver(bot)
    [lead_id] = salesforce.leads
    [card] = bot.fake.messages(SALES)
    assert "CRM sync pending" not in visible_text(card.blocks)
    link = f"{salesforce.base_url}/lightning/r/Lead/{lead_id}/view"
    assert f"<{link}|Salesforce Lead>" in str(card.blocks)
    assert [b["type"] for b in card.blocks][-1] == "actions"  # the buttons stay last


async def test_down_for_an_hour_loses_and_doubles_nothing(bot, salesforce) -> None:
    salesforce.down = True
    await claim(bot)
    await bot.flush()
    await accept(bot)
    for _ in range(12):
        bot.clock.advance(minutes=5)
        await bot.flush()
    assert not salesforce.leads and salesforce.faults_injected >= 4
    salesforce.down = False
    await deliver(bot)
    [(lead_id, fields)] = salesforce.leads.items()
    assert fields["Status"] == "Working - Contacted"
    assert len(salesforce.tasks_of(lead_id)) == 1


async def test_a_lost_answer_to_the_task_does_not_log_it_twice(bot, salesforce) -> None:
    await claim(bot)
    await deliver(bot)
    salesforce.lose_answer_to.add("Task")  # created, but the client sees a 502
    await accept(bot)
    await deliver(bot)
    [lead_id] = salesforce.leads
    assert len(salesforce.tasks_of(lead_id)) == 1
    assert any("FROM Task" in q and "LIKE" in q for q in salesforce.queries)


async def test_an_expired_session_is_refreshed_once(bot, salesforce) -> None:
    await claim(bot)
    await deliver(bot)
    assert salesforce.tokens_issued == 1
    salesforce.expire_tokens()  # the session timed out: 401 INVALID_SESSION_ID
    await accept(bot)
    await deliver(bot)
    assert salesforce.tokens_issued == 2
    [lead_id] = salesforce.leads
    assert len(salesforce.tasks_of(lead_id)) == 1
    assert not [m for m in bot.fake.messages(bot.fake.im_channel(ADMIN)) if "refused" in m.text]


async def test_the_request_limit_holds_every_call(bot, salesforce) -> None:
    salesforce.daily_limit = 0  # the org's 24-hour allowance is spent: 403 REQUEST_LIMIT_EXCEEDED
    await claim(bot)
    await bot.flush()
    calls = len(salesforce.calls)
    bot.clock.advance(minutes=10)
    await bot.flush()
    assert len(salesforce.calls) == calls  # held for SALESFORCE_LIMIT_PAUSE_SECONDS (15 minutes)
    salesforce.daily_limit = 15000
    bot.clock.advance(minutes=6)
    await bot.flush()
    await deliver(bot)
    assert len(salesforce.leads) == 1


async def test_refused_credentials_alert_the_admins_once(bot, salesforce) -> None:
    salesforce.revoke()
    await claim(bot)
    await deliver(bot)
    await bot.slack.click(REP1, "Release", channel_id=SALES)
    await deliver(bot)
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await deliver(bot)
    alerts = [
        m
        for m in bot.fake.messages(bot.fake.im_channel(ADMIN))
        if "Salesforce refused Handoff's connected app" in m.text
    ]
    assert len(alerts) == 1
    assert salesforce.client_secret not in alerts[0].text
    assert "CRM sync pending" in card_text(bot)  # failed rows wait for /handoff status retry


async def test_stages_map_and_won_is_closed_converted(bot, salesforce) -> None:
    lead_id = await claim(bot)
    await bot.flush()
    await accept(bot, comment="")
    await deliver(bot)
    [(sf_id, fields)] = salesforce.leads.items()
    await bot.slack.command(REP1, "/lead", f"status {lead_id} contacted")
    await deliver(bot)
    assert fields["Status"] == "Working - Contacted"
    await bot.slack.command(REP1, "/lead", f"status {lead_id} won 12000 EUR")
    await deliver(bot)
    assert fields["Status"] == "Closed - Converted"
    subjects = sorted(t["Subject"] for t in salesforce.tasks_of(sf_id))
    assert len(subjects) == 2 and any(s.startswith("Handoff: won, 12000.00 EUR [handoff") for s in subjects)


async def test_a_lead_deleted_in_salesforce_is_found_again_by_email(bot, salesforce) -> None:
    await claim(bot)
    await deliver(bot)
    [old] = salesforce.leads
    salesforce.leads.clear()  # deleted (or merged away): PATCH by the stored Id answers 404
    await accept(bot)
    await deliver(bot)
    [(new, fields)] = salesforce.leads.items()
    assert new != old and fields["Status"] == "Working - Contacted"
    assert len(salesforce.tasks_of(new)) == 1


async def test_a_slow_salesforce_times_out_and_is_tried_again(bot, salesforce) -> None:
    bot.handoff.sender.delivery.others[Purpose.CRM_SYNC].by_crm["salesforce"].timeout = 0.3
    salesforce.script.append(("hang", 1.0))  # the token request hangs past the timeout
    salesforce.script.append(("status", 500))  # then a 500 from the token endpoint
    await claim(bot)
    await deliver(bot)
    assert len(salesforce.leads) == 1 and salesforce.faults_injected == 2
