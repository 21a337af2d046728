"""The weekly digest in the partnership channel: targets and pace, the week against the one
before, best and worst sources, SLA breaches, and a chart (people would rather look than read).

Posted once per (team, ISO week) however many instances run: the job claims its slot first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.charts import Progress, digest_chart_isolated
from bot.domain.periods import Window, iso_week_slot
from bot.domain.settings_catalog import WEEKDAYS
from bot.domain.sla import BusinessCalendar
from bot.domain.views import Digest
from bot.services.business_calendar import load_calendar
from bot.services.context import Ctx
from bot.services.targets import build_scoreboard
from bot.storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

JOB_NAME = "weekly_digest"
MIN_VERDICTS = 3  # a source with fewer verdicts this week is too small to call best or worst

# Extra digest sections, fed by other features (e.g. the partnership discussion's recap) and
# listed with the digest job in bot/jobs.py: a title and an async callable
# (uow, team_id, week) → mrkdwn text, or None to add nothing this week.
DigestSection = Callable[[UnitOfWork, str, Window], Awaitable[str | None]]
Sections = Sequence[tuple[str, DigestSection]]


async def build_digest(
    uow: UnitOfWork,
    team_id: str,
    now: datetime,
    tz: ZoneInfo,
    *,
    sections: Sections = (),
    calendar: BusinessCalendar | None = None,
) -> Digest:
    """The week's numbers; `calendar` (the workspace's business hours and holidays) makes speed to
    lead count working minutes, as `/targets` and App Home do."""
    week = Window.last(7, now)
    before = week.before()
    board = await build_scoreboard(uow, team_id, now, tz, calendar)
    this_week = await uow.reports.span_numbers(team_id, week.start, week.end)
    last_week = await uow.reports.span_numbers(team_id, before.start, before.end)
    ranked = sorted(
        (
            s
            for s in await uow.reports.verdicts_by_source(team_id, week.start, week.end)
            if s.verdicts >= MIN_VERDICTS
        ),
        key=lambda s: (-s.acceptance_rate, -s.verdicts, s.source),
    )
    best = ranked[0] if ranked else None
    worst = ranked[-1] if len(ranked) > 1 else None
    extra = []
    for title, section in sections:
        try:
            text = await section(uow, team_id, week)
        except Exception:  # a broken section must not cost the team its digest
            log.exception("digest section %r failed", title)
            continue
        if text:
            extra.append((title, text))
    return Digest(
        now=now,
        week=week,
        scoreboard=board,
        this_week=this_week,
        last_week=last_week,
        best=best,
        worst=worst,
        breaches=await uow.reports.sla_breaches(team_id, week.start, week.end),
        breaches_before=await uow.reports.sla_breaches(team_id, before.start, before.end),
        extra=extra,
    )


def chart_png(digest: Digest) -> bytes:
    board = digest.scoreboard
    progress = [
        Progress(
            label=f"{line.metric.label} ({line.period.label})"[:48],
            percent=line.percent,
            expected=line.elapsed * 100 if line.metric.cumulative else None,
        )
        for line in board.lines[:12]
    ]
    f = board.funnel
    funnel = [("Delivered", f.delivered), ("Accepted", f.accepted), ("Meeting", f.meetings), ("Won", f.won)]
    return digest_chart_isolated(
        title=f"Handoff weekly digest · {board.month.label}",
        progress=progress,
        funnel=funnel,
        funnel_title=f"Funnel · {board.month.label} so far",
    )


async def queue_digest(ctx: Ctx, digest: Digest, channel_id: str, *, chart: bytes | None = None) -> None:
    """The message, then the chart, as outbox rows (the sender keeps one channel's rows in order).
    Pass the `chart` rendered beforehand (chart_png) to keep the transaction short."""
    from bot.slack.blocks.digest import digest_blocks, digest_text

    await ctx.notifier.post(ctx.team_id, channel_id, digest_text(digest), digest_blocks(digest))
    await ctx.notifier.upload_file(
        ctx.team_id,
        channel_id,
        filename=f"handoff-digest-{digest.now:%Y-%m-%d}.png",
        content=chart if chart is not None else chart_png(digest),
        title=f"Targets and funnel · {digest.scoreboard.month.label}",
        alt_text="Progress against each target, and the month's funnel from delivered to won",
    )


async def run_weekly_digest(
    handoff: Runtime, team_id: str, now: datetime, *, sections: Sections = ()
) -> bool:
    """The job: True when this instance posted this week's digest.

    The numbers are read in one read-only transaction (`read_uow`: on SQLite a connection of its
    own, reading a snapshot beside the writer, so no claim waits for its seconds at 100k leads);
    the chart (a matplotlib render, CPU-bound) is drawn after it closed and in a worker thread, so
    the event loop keeps answering; the message and the chart are then queued together with the
    week's slot in a short write transaction: both or neither, once per week."""
    async with handoff.open_context(team_id) as ctx:
        channel = await ctx.channel_setting("partnership_channel")
        if not channel:
            log.info("no partnership channel for %s: weekly digest skipped", team_id)
            return False
        tz = await ctx.tz()  # the workspace's week and periods (Home → Settings), else the environment's
        slot = iso_week_slot(now, tz)
        if await ctx.uow.slots.claimed(team_id, [JOB_NAME], [slot]):
            return False  # posted already (here or by another instance)
        calendar = await load_calendar(ctx.uow, handoff.settings, team_id)
    async with handoff.read_uow() as uow:
        digest = await build_digest(uow, team_id, now, tz, sections=sections, calendar=calendar)
    chart = await asyncio.to_thread(chart_png, digest)
    async with handoff.open_context(team_id) as ctx:
        if not await ctx.uow.slots.claim(
            team_id=team_id, job=JOB_NAME, slot=slot, instance=handoff.instance_id, at=handoff.clock.now()
        ):
            return False  # another instance queued it meanwhile
        await queue_digest(ctx, digest, channel, chart=chart)
    return True


def weekly_trigger(handoff: Runtime) -> CronTrigger:
    settings = handoff.settings
    return CronTrigger(day_of_week=settings.digest_day, hour=settings.digest_hour, timezone=settings.tz)


def own_time_trigger(handoff: Runtime) -> CronTrigger:
    # a workspace's own day, hour and time zone (Home → Settings) are checked by due_now, so a
    # change applies without restarting any instance's scheduler; every quarter hour, because a
    # workspace's hour may start at :30 or :45 UTC (India, Nepal); the week's slot posts it once
    return CronTrigger(minute="0,15,30,45", timezone=handoff.settings.tz)


async def due_now(handoff: Runtime, team_id: str, now: datetime) -> bool:
    """Is `now` within the workspace's digest hour (HANDOFF_DIGEST_DAY/HOUR, or the settings of
    the same name set from Slack), in its time zone?"""
    settings = handoff.settings
    async with handoff.uow() as uow:
        rows = await uow.settings.overrides(team_id, ("digest_day", "digest_hour", "timezone"))
        calendar = await load_calendar(uow, settings, team_id)
    day = rows["digest_day"].value if "digest_day" in rows else settings.digest_day
    hour = rows["digest_hour"].value if "digest_hour" in rows else settings.digest_hour
    local = now.astimezone(calendar.tz)
    return WEEKDAYS[local.weekday()] == str(day)[:3] and local.hour == hour
