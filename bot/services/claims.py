"""Claiming a lead: first click wins, by compare-and-set in the database."""

from __future__ import annotations

from bot.domain.errors import LeadAlreadyClaimed, LeadNotFound
from bot.domain.events import EventKind
from bot.domain.lead import Status
from bot.services.context import Ctx
from bot.storage.models import Lead


async def claim_lead(ctx: Ctx, lead_id: int, *, user_id: str) -> Lead:
    """Make `user_id` the owner if the lead is still new; raise LeadAlreadyClaimed otherwise."""
    uow, now = ctx.uow, ctx.now
    won = await uow.leads.compare_and_set(
        ctx.team_id,
        lead_id,
        expected=[Status.NEW.value],
        values={"status": Status.CLAIMED.value, "owner_id": user_id, "claimed_at": now, "updated_at": now},
    )
    lead = await uow.leads.get(ctx.team_id, lead_id)
    if lead is None:
        raise LeadNotFound(lead_id)
    if not won:
        raise LeadAlreadyClaimed(lead.owner_id)
    # no refresh: the UPDATE ran before this session loaded the row, so `lead` is already current
    await uow.events.append(
        team_id=ctx.team_id, lead_id=lead.id, kind=EventKind.CLAIMED, actor_id=user_id, origin="slack", at=now
    )
    await ctx.notifier.refresh_lead_card(lead)
    return lead
