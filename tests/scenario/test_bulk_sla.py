"""SLA steps of leads that wait in a bulk batch's thread (issue 14): one reminder per batch in the
summary's thread and one escalation DM per manager, not one per lead; each lead keeps its event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.domain.events import EventKind
from bot.storage.models import LeadEvent
from tests.conftest import ADMIN, SALES, RunningBot
from tests.scenario.helpers_intake import api
from tests.scenario.test_sla import tick

MONDAY_10 = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)


async def count(bot: RunningBot, kind: EventKind) -> int:
    async with bot.handoff.uow() as uow:
        return int(
            await uow.session.scalar(select(func.count(LeadEvent.id)).where(LeadEvent.kind == kind)) or 0
        )


async def test_a_waiting_batch_gets_one_reminder_and_one_escalation_not_one_per_lead(bot: RunningBot) -> None:
    bot.clock.set(MONDAY_10)
    leads = [{"email": f"b{i}@acme.com", "name": f"B {i}", "campaign": "Dec webinar"} for i in range(12)]
    status, body, _ = await api(bot, {"leads": leads})
    assert status == 200, body
    await bot.flush()
    [summary] = bot.fake.messages(SALES)
    await tick(bot, MONDAY_10 + timedelta(minutes=29))
    assert len(bot.fake.thread(SALES, summary.ts)) == 1  # the list only
    await tick(bot, MONDAY_10 + timedelta(minutes=30))
    await tick(bot, MONDAY_10 + timedelta(minutes=31))
    thread = bot.fake.thread(SALES, summary.ts)
    reminders = [m.text for m in thread if "still wait for a claim" in m.text]
    assert reminders == [reminders[0]] and "12 leads of Dec webinar" in reminders[0]
    assert await count(bot, EventKind.SLA_REMINDER) == 12  # each lead's history has its reminder
    await tick(bot, MONDAY_10 + timedelta(minutes=120))
    dms = [m.text for m in bot.fake.dms(ADMIN) if "nobody has claimed them" in m.text]
    assert len(dms) == 1 and "12 leads of Dec webinar" in dms[0] and f"<#{SALES}>" in dms[0]
    assert await count(bot, EventKind.SLA_ESCALATED) == 12
    assert len(bot.fake.messages(SALES)) == 1  # still one top-level message
