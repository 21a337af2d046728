"""Claiming a lead: first click wins, by compare-and-set in the database."""

from __future__ import annotations

from dataclasses import dataclass

from bot import messages
from bot.domain.errors import LeadAlreadyClaimed, LeadNotFound, NothingLeft
from bot.domain.events import EventKind
from bot.domain.lead import Status
from bot.domain.outbox import Lane
from bot.observability import metrics
from bot.services import crm
from bot.services.context import Ctx
from bot.storage.models import Lead, LeadBatch


async def lead_to_claim(ctx: Ctx, lead_id: int) -> Lead:
    """The lead a Claim click names, read to decide who may claim it (a Claim's first statement:
    read through the driver, bot.storage.raw; the compare-and-set decides the rest)."""
    lead = await ctx.uow.leads.read(ctx.team_id, lead_id)
    if lead is None:
        raise LeadNotFound(lead_id)
    return lead


async def claim_lead(ctx: Ctx, lead_id: int, *, user_id: str) -> Lead:
    """Make `user_id` the owner if the lead is still new; raise LeadAlreadyClaimed otherwise."""
    lead = await _take(ctx, lead_id, user_id)
    if lead is None:  # lost the race, or no such lead: only now is it worth reading the row
        current = await ctx.uow.leads.fresh(ctx.team_id, lead_id)
        if current is None:
            raise LeadNotFound(lead_id)
        metrics.claims.labels("too_late").inc()
        raise LeadAlreadyClaimed(current.owner_id, current.status)
    await _claimed(ctx, lead, user_id)
    return lead


async def claim_in_channel(ctx: Ctx, lead_id: int, *, user_id: str, channel_id: str) -> Lead | None:
    """The usual Claim, its permission and compare-and-set in one statement: the lead becomes
    `user_id`'s if it is still new and routed to `channel_id`, a channel the caller knows them to
    be a member of. None when it is not (lost, another channel's, missing): nothing was written,
    and claim_lead, after the full check, tells the clicker why."""
    lead = await _take(ctx, lead_id, user_id, in_channel=channel_id)
    if lead is not None:
        await _claimed(ctx, lead, user_id)
    return lead


async def _take(ctx: Ctx, lead_id: int, user_id: str, *, in_channel: str | None = None) -> Lead | None:
    now = ctx.now
    return await ctx.uow.leads.set_if(
        ctx.team_id,
        lead_id,
        expected=[Status.NEW.value],
        values={"status": Status.CLAIMED.value, "owner_id": user_id, "claimed_at": now, "updated_at": now},
        in_channel=in_channel,
    )


async def _claimed(ctx: Ctx, lead: Lead, user_id: str) -> None:
    """What a won claim records and shows: its event, the card, the CRM."""
    now = ctx.now
    metrics.claims.labels("won").inc()
    metrics.lead_claimed_seconds.observe(metrics.seconds_between(lead.created_at, now))
    await ctx.uow.events.append(
        team_id=ctx.team_id, lead_id=lead.id, kind=EventKind.CLAIMED, actor_id=user_id, origin="slack", at=now
    )
    if lead.batch_id is not None and lead.message_ts is None:
        # listed in a bulk batch's thread: the owner gets its card there, and the list says who has it
        await ctx.notifier.post_lead_card(lead, lane=Lane.PERSON)
        await ctx.notifier.refresh_batch_line(lead)
        # the summary's "waiting for a claim" (chat.update: Slack's tier 3, not the channel's posts)
        await ctx.notifier.refresh_batch_summary(lead.team_id, lead.channel_id or "", lead.batch_id)
    else:
        await ctx.notifier.refresh_lead_card(lead)
    await crm.lead_moved(ctx, EventKind.CLAIMED, lead)


@dataclass(frozen=True)
class ClaimedNext:
    lead: Lead
    batch: LeadBatch


async def batch_channel(ctx: Ctx, batch_id: int) -> str:
    """The channel a bulk batch was posted to (NothingLeft when the batch is not this workspace's)."""
    batch = await ctx.uow.batches.get(ctx.team_id, batch_id)
    if batch is None:
        raise NothingLeft(messages.BULK_NOTHING_LEFT)
    return batch.channel_id


async def claim_next(ctx: Ctx, batch_id: int, *, user_id: str) -> ClaimedNext:
    """ "Claim next" on a bulk batch's summary: the best unclaimed lead of the batch (highest score,
    then the longest waiting) becomes the clicker's; a lead someone else took meanwhile is skipped."""
    batch = await ctx.uow.batches.get(ctx.team_id, batch_id)
    if batch is None:
        raise NothingLeft(messages.BULK_NOTHING_LEFT)
    for _ in range(5):  # a few rounds: concurrent clicks take leads from under us
        candidates = await ctx.uow.batches.unclaimed(ctx.team_id, batch_id, limit=5)
        if not candidates:
            break
        for lead_id in candidates:
            try:
                return ClaimedNext(lead=await claim_lead(ctx, lead_id, user_id=user_id), batch=batch)
            except LeadAlreadyClaimed:
                continue
    raise NothingLeft(messages.BULK_NOTHING_LEFT)
