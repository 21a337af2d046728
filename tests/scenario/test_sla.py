"""SLA reminders, escalations and nudges: at the right working time, exactly once (also across a
restart and a second instance), never for a lead that has moved on. Time is injected."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app
from bot.domain.events import EventKind
from bot.jobs import JOBS, run_job
from bot.outbox.pacing import Pacer
from bot.sandbox import visible_text
from bot.services.sla import JOB_NAME
from bot.storage.models import LeadEvent, RoutingRule
from tests.conftest import ADMIN, MARKETER, REP1, REP2, SALES, RunningBot
from tests.scenario.test_card_and_claim import add_lead

FRIDAY_1650 = datetime(2026, 3, 6, 16, 50, tzinfo=UTC)
MONDAY = datetime(2026, 3, 9, tzinfo=UTC)
SLA_JOB = next(job for job in JOBS if job.name == JOB_NAME)


async def add_rule(bot: RunningBot, **values: object) -> None:
    team = await bot.handoff.default_team_id()
    fields: dict[str, object] = {
        "team_id": team,
        "name": "Everyone",
        "priority": 10,
        "channel_id": SALES,
        "reps": [REP1, REP2],
        "manager_id": MARKETER,
        "created_at": bot.clock.now(),
        **values,
    }
    async with bot.handoff.uow() as uow:
        await uow.rules.add(RoutingRule(**fields))


async def tick(bot: RunningBot, when: datetime, handoff: object = None) -> None:
    """The scheduler's minute job, run by hand at `when`."""
    bot.clock.set(when)
    await run_job(handoff or bot.handoff, SLA_JOB, when)
    await bot.flush()


def thread(bot: RunningBot) -> list[str]:
    card = bot.fake.messages(SALES)[0]
    return [m.text for m in bot.fake.thread(SALES, card.ts)]


def reminders(bot: RunningBot) -> list[str]:
    return [t for t in thread(bot) if "without a claim" in t]


async def count_events(bot: RunningBot, kind: EventKind) -> int:
    async with bot.handoff.uow() as uow:
        return int(
            await uow.session.scalar(select(func.count(LeadEvent.id)).where(LeadEvent.kind == kind)) or 0
        )


async def test_friday_evening_lead_reminds_monday_and_escalates_once(
    bot: RunningBot, engine: AsyncEngine
) -> None:
    await add_rule(bot)
    bot.clock.set(FRIDAY_1650)
    await add_lead(bot)
    for when in (
        FRIDAY_1650 + timedelta(minutes=30),  # 17:20 Friday: only 10 working minutes have passed
        datetime(2026, 3, 7, 12, 0, tzinfo=UTC),  # Saturday
        MONDAY.replace(hour=9, minute=19),
    ):
        await tick(bot, when)
    assert reminders(bot) == []

    await tick(bot, MONDAY.replace(hour=9, minute=20))
    [reminder] = reminders(bot)
    assert f"<@{REP1}>" in reminder and f"<@{REP2}>" in reminder and "30 min" in reminder
    await tick(bot, MONDAY.replace(hour=9, minute=21))
    assert len(reminders(bot)) == 1

    # a restart mid-SLA: a second app on the same database runs the job again
    restarted = build_app(
        bot.handoff.settings, engine=engine, clock=bot.clock, pacer=Pacer(rate=1000, burst=1000)
    )
    try:
        await tick(bot, MONDAY.replace(hour=9, minute=22), restarted)
        assert len(reminders(bot)) == 1

        # escalation: 120 working minutes = 10 on Friday + 110 on Monday → 10:50
        await tick(bot, MONDAY.replace(hour=10, minute=49), restarted)
        assert bot.fake.dms(MARKETER) == []
        await tick(bot, MONDAY.replace(hour=10, minute=50), restarted)
        await tick(bot, MONDAY.replace(hour=10, minute=51))
    finally:
        await restarted.close()
    [dm] = bot.fake.dms(MARKETER)
    assert "nobody has claimed it" in dm.text and "Jane Doe · Acme" in dm.text
    assert any(f"escalated to <@{MARKETER}>" in t for t in thread(bot))
    assert await count_events(bot, EventKind.SLA_REMINDER) == 1
    assert await count_events(bot, EventKind.SLA_ESCALATED) == 1


async def test_claiming_stops_the_unclaimed_clock(bot: RunningBot) -> None:
    await add_rule(bot)
    await add_lead(bot)
    start = bot.clock.now()  # Monday 09:00
    await tick(bot, start + timedelta(minutes=29))
    await bot.slack.click(REP2, "Claim", channel_id=SALES)
    await bot.flush()
    await tick(bot, start + timedelta(minutes=30))
    await tick(bot, start + timedelta(hours=3))
    assert reminders(bot) == [] and bot.fake.dms(MARKETER) == []


async def test_claim_after_the_reminder_stops_the_escalation(bot: RunningBot) -> None:
    await add_rule(bot)
    await add_lead(bot)
    start = bot.clock.now()
    await tick(bot, start + timedelta(minutes=31))
    assert len(reminders(bot)) == 1
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await bot.flush()
    await tick(bot, start + timedelta(hours=2, minutes=5))
    assert bot.fake.dms(MARKETER) == []
    assert await count_events(bot, EventKind.SLA_ESCALATED) == 0


async def test_reminder_mentions_only_reps_on_duty(bot: RunningBot) -> None:
    await add_rule(bot)
    team = await bot.handoff.default_team_id()
    async with bot.handoff.uow() as uow:
        await uow.members.upsert(team, REP2, at=bot.clock.now(), away=True)
    await add_lead(bot)
    await tick(bot, bot.clock.now() + timedelta(minutes=30))
    [reminder] = reminders(bot)
    assert f"<@{REP1}>" in reminder and f"<@{REP2}>" not in reminder


async def test_rule_thresholds_and_reassignment_by_round_robin(bot: RunningBot) -> None:
    await add_rule(bot, sla_remind_minutes=5, sla_escalate_minutes=15, escalation_mode="reassign")
    await add_lead(bot)
    card = bot.fake.latest(SALES)
    assert f"suggested owner <@{REP1}>" in visible_text(card.blocks)
    start = bot.clock.now()
    await tick(bot, start + timedelta(minutes=5))
    assert len(reminders(bot)) == 1
    await tick(bot, start + timedelta(minutes=15))
    assert f"suggested owner <@{REP2}>" in visible_text(bot.fake.latest(SALES).blocks)
    [dm] = bot.fake.dms(REP2)
    assert "you're next in line" in dm.text
    assert any(f"<@{REP2}> is now the suggested owner" in t for t in thread(bot))
    await tick(bot, start + timedelta(minutes=16))
    assert len(bot.fake.dms(REP2)) == 1
    assert await count_events(bot, EventKind.REASSIGNED) == 1


async def test_escalation_without_a_manager_goes_to_admins(bot: RunningBot) -> None:
    await add_lead(bot)  # no rule: the default sales channel and workspace defaults
    start = bot.clock.now()
    await tick(bot, start + timedelta(hours=2))
    assert len(reminders(bot)) == 1
    [dm] = bot.fake.dms(ADMIN)
    assert "nobody has claimed it" in dm.text


async def test_two_instances_at_once_send_one_reminder(bot: RunningBot, engine: AsyncEngine) -> None:
    await add_rule(bot)
    await add_lead(bot)
    when = bot.clock.now() + timedelta(minutes=30)
    bot.clock.set(when)
    other = build_app(
        bot.handoff.settings, engine=engine, clock=bot.clock, pacer=Pacer(rate=1000, burst=1000)
    )
    try:
        await asyncio.gather(run_job(bot.handoff, SLA_JOB, when), run_job(other, SLA_JOB, when))
    finally:
        await other.close()
    await bot.flush()
    assert len(reminders(bot)) == 1
    assert await count_events(bot, EventKind.SLA_REMINDER) == 1


async def test_verdict_nudge_reaches_the_owner_once(bot: RunningBot) -> None:
    await add_rule(bot)
    await add_lead(bot)
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await bot.flush()
    start = bot.clock.now()  # Monday 09:00; 8 working hours → Monday 17:00
    await tick(bot, start + timedelta(hours=7, minutes=59))
    assert bot.fake.dms(REP1) == []
    await tick(bot, start + timedelta(hours=8))
    await tick(bot, start + timedelta(days=1))
    [dm] = bot.fake.dms(REP1)
    assert "no verdict yet" in dm.text and "Jane Doe · Acme" in dm.text
    assert await count_events(bot, EventKind.SLA_VERDICT_NUDGE) == 1


async def test_stage_nudge_once_per_stage(bot: RunningBot) -> None:
    await add_rule(bot, sla_stage_days=2)
    await add_lead(bot)
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await bot.flush()
    await bot.slack.click(REP1, "Accept", channel_id=SALES)
    await bot.slack.submit(REP1, {"Lead quality": "4 — good"})
    await bot.flush()
    start = bot.clock.now()  # Monday 09:00: 2 working days → Tuesday 17:00
    await tick(bot, start + timedelta(days=1, hours=7, minutes=59))
    assert bot.fake.dms(REP1) == []
    await tick(bot, start + timedelta(days=1, hours=8))
    await tick(bot, start + timedelta(days=1, hours=9))
    [dm] = bot.fake.dms(REP1)
    assert "*Accepted* for 2 working days" in dm.text and "Make first contact" in dm.text

    await bot.slack.click(REP1, "Contacted", channel_id=SALES)
    await bot.flush()
    moved = bot.clock.now()  # Tuesday 18:00 → the new clock starts Wednesday 09:00
    await tick(bot, moved + timedelta(days=1))
    assert len(bot.fake.dms(REP1)) == 1
    await tick(bot, datetime(2026, 3, 5, 17, 0, tzinfo=UTC))  # Thursday 17:00
    assert len(bot.fake.dms(REP1)) == 2 and "*Contacted*" in bot.fake.dms(REP1)[-1].text
    assert await count_events(bot, EventKind.SLA_STAGE_NUDGE) == 2


async def test_released_lead_gets_a_fresh_unclaimed_clock(bot: RunningBot) -> None:
    await add_rule(bot)
    await add_lead(bot)
    start = bot.clock.now()
    await tick(bot, start + timedelta(minutes=30))
    assert len(reminders(bot)) == 1
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await bot.flush()
    await bot.slack.click(REP1, "Release", channel_id=SALES)
    await bot.flush()
    await tick(bot, start + timedelta(minutes=59))
    assert len(reminders(bot)) == 1
    await tick(bot, start + timedelta(minutes=60))
    assert len(reminders(bot)) == 2
