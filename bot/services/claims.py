"""Claiming a lead: first click wins, by compare-and-set in the database."""

from __future__ import annotations

from bot.domain.errors import LeadAlreadyClaimed, LeadNotFound
from bot.domain.events import EventKind
from bot.domain.lead import Status
from bot.observability import metrics
from bot.services import crm
from bot.services.context import Ctx
from bot.storage.models import Lead


async def claim_lead(ctx: Ctx, lead_id: int, *, user_id: str) -> Lead:
    """Make `user_id` the owner if the lead is still new; raise LeadAlreadyClaimed otherwise."""
    uow, now = ctx.uow, ctx.now
    lead = await uow.leads.set_if(
        ctx.team_id,
        lead_id,
        expected=[Status.NEW.value],
        values={"status": Status.CLAIMED.value, "owner_id": user_id, "claimed_at": now, "updated_at": now},
    )
    if lead is None:  # lost the race, or no such lead: only now is it worth reading the row
        current = await uow.leads.get(ctx.team_id, lead_id)
        if current is None:
            raise LeadNotFound(lead_id)
        metrics.claims.labels("too_late").inc()
        raise LeadAlreadyClaimed(current.owner_id, current.status)
    metrics.claims.labels("won").inc()
    metrics.lead_claimed_seconds.observe(metrics.seconds_between(lead.created_at, now))
    await uow.events.append(
        team_id=ctx.team_id, lead_id=lead.id, kind=EventKind.CLAIMED, actor_id=user_id, origin="slack", at=now
    )
    await ctx.notifier.refresh_lead_card(lead)
    await crm.lead_moved(ctx, EventKind.CLAIMED, lead)
    return lead
