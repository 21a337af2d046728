"""Clocks that start when a rep can see the lead (issue 14, item 4): posted_at is recorded when
the card, or the lead's line in a bulk thread, goes out; the unclaimed SLA clock runs from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.storage.models import Lead
from tests.conftest import SALES, RunningBot
from tests.scenario.helpers_intake import api
from tests.scenario.test_sla import add_rule, reminders, tick

MONDAY_10 = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)


async def lead_row(bot: RunningBot, lead_id: int) -> Lead:
    async with bot.handoff.uow() as uow:
        lead = await uow.leads.get(await bot.handoff.default_team_id() or "", lead_id)
    assert lead is not None
    return lead


async def test_the_unclaimed_clock_starts_when_the_card_is_posted(bot: RunningBot) -> None:
    await add_rule(bot)
    bot.clock.set(MONDAY_10)
    status, body, _ = await api(bot, {"email": "late@acme.com", "name": "Lara Late", "company": "Acme"})
    assert status == 201, body
    lead_id = body["id"]
    assert (await lead_row(bot, lead_id)).posted_at is None  # nobody can see it yet
    # the card goes out 20 minutes late (a backlog): an SLA pass before that starts no clock
    await tick(bot, MONDAY_10 + timedelta(minutes=20))
    lead = await lead_row(bot, lead_id)
    assert lead.posted_at == MONDAY_10 + timedelta(minutes=20)
    assert lead.created_at == MONDAY_10
    # recorded with the post, in the same statement: the SLA pass looks at the lead from then on
    assert lead.sla_check_at == lead.posted_at
    await tick(bot, MONDAY_10 + timedelta(minutes=49))  # 49 min after arrival, 29 visible
    assert reminders(bot) == []
    await tick(bot, MONDAY_10 + timedelta(minutes=50))  # 30 min visible
    [reminder] = reminders(bot)
    assert "30 min" in reminder


async def test_a_bulk_lead_is_visible_when_its_line_is_posted(bot: RunningBot) -> None:
    bot.clock.set(MONDAY_10)
    leads = [{"email": f"b{i}@acme.com", "source": "webinar"} for i in range(12)]
    status, body, _ = await api(bot, {"leads": leads})
    assert status == 200
    ids = [r["id"] for r in body["results"]]
    bot.clock.set(MONDAY_10 + timedelta(minutes=3))
    await bot.flush()
    [summary] = bot.fake.messages(SALES)
    [line] = bot.fake.thread(SALES, summary.ts)
    for lead_id in ids:
        lead = await lead_row(bot, lead_id)
        assert lead.posted_at == MONDAY_10 + timedelta(minutes=3)
        assert lead.line_ts == line.ts and lead.message_ts is None
