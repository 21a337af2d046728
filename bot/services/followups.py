"""Follow-ups that remember themselves: a rep asks to be reminded of a lead or customer at a
time (placed in working hours); a job DMs them once, whichever instance claims the row first."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import messages
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.followups import parse_when
from bot.services.business_calendar import load_calendar
from bot.services.context import Ctx
from bot.services.lifecycle import load_lead
from bot.slack.mrkdwn import escape
from bot.storage.models import Followup, Lead

if TYPE_CHECKING:
    from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

JOB_NAME = "followups"
EVERY = timedelta(minutes=1)


def every_minute(handoff: Runtime) -> BaseTrigger:
    return IntervalTrigger(seconds=EVERY.total_seconds(), timezone=handoff.settings.tz)


async def schedule(
    ctx: Ctx,
    *,
    user_id: str,
    when: str,
    lead_id: int | None = None,
    account_id: int | None = None,
    note: str = "",
    owner_only: bool = False,
) -> Followup:
    """Remember to remind `user_id`; the due time falls inside the workspace's working hours.
    `owner_only`: the lead card's Remind me, for the lead's owner alone."""
    if lead_id is not None:
        lead = await load_lead(ctx, lead_id)  # LeadNotFound for another workspace's or a forged ID
        if owner_only:
            require_owner(lead, user_id)
    calendar = await load_calendar(ctx.uow, ctx.settings, ctx.team_id)
    parsed = parse_when(f"{when} {note}".strip(), now=ctx.now, calendar=calendar)
    if parsed is None:
        raise InvalidInput({"when": messages.FOLLOWUP_WHEN_INVALID})
    followup = Followup(
        team_id=ctx.team_id,
        user_id=user_id,
        lead_id=lead_id,
        account_id=account_id,
        note=parsed.rest or None,
        due_at=parsed.due_at,
        created_at=ctx.now,
    )
    return await ctx.uow.retention.add_followup(followup)


def require_owner(lead: Lead, user_id: str) -> None:
    if not lead.owner_id or lead.owner_id != user_id:
        raise NotAllowed(messages.REMIND_LEAD_OWNER_ONLY.format(lead_id=lead.id))


async def require_lead_owner(ctx: Ctx, *, user_id: str, lead_id: int) -> None:
    """Before the lead card's Remind me form opens: is `user_id` the lead's owner?"""
    require_owner(await load_lead(ctx, lead_id), user_id)


async def upcoming(ctx: Ctx, user_id: str) -> list[Followup]:
    return await ctx.uow.retention.upcoming_followups(ctx.team_id, user_id)


async def send_due(ctx: Ctx) -> int:
    """DM every due follow-up this instance claims (compare-and-set on sent_at, in the same
    transaction as the DM's outbox row: a crash before the commit leaves it for the next pass)."""
    sent = 0
    for followup in await ctx.uow.retention.due_followups(ctx.team_id, ctx.now):
        if not await ctx.uow.retention.claim_followup(ctx.team_id, followup.id, ctx.now):
            continue  # another instance has it
        what = f"lead #{followup.lead_id}" if followup.lead_id else messages.FOLLOWUP_GENERIC
        if followup.lead_id is not None:
            lead = await ctx.uow.leads.get(ctx.team_id, followup.lead_id)
            if lead is not None:
                what = f"lead #{lead.id} ({lead.name or lead.email}{', ' + lead.company if lead.company else ''})"
        elif followup.account_id is not None:
            account = await ctx.uow.retention.account(ctx.team_id, followup.account_id)
            if account is not None:
                what = f"customer {account.company or account.key}"
        await ctx.notifier.dm(ctx.team_id, followup.user_id, *_reminder(what, followup.note))
        sent += 1
    return sent


def _reminder(what: str, note: str | None) -> tuple[str]:
    # the DM's text: escape what people typed
    text = messages.FOLLOWUP_DUE.format(what=escape(what))
    if note:
        text += f"\n> {escape(note)}"
    return (text,)


async def run_followups(handoff: Runtime, team_id: str, now: datetime) -> int:
    """The job (every minute, on every instance): the once-only claim is per follow-up row."""
    async with handoff.open_context(team_id, now=now) as ctx:
        return await send_due(ctx)
