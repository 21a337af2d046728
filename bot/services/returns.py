"""“Not for us”: sales hands an unclaimed lead back to marketing, with a reason."""

from __future__ import annotations

from bot import messages
from bot.domain.errors import IllegalTransition, InvalidInput, LeadNotFound
from bot.domain.events import EventKind
from bot.domain.lead import Status
from bot.services.context import Ctx
from bot.slack.mrkdwn import escape, mention, truncate
from bot.storage.models import Lead


async def return_lead(ctx: Ctx, lead_id: int, *, user_id: str, reason: str) -> Lead:
    """new → returned (compare-and-set: a claim racing with this wins or loses cleanly)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput({"reason": messages.RETURN_REASON_REQUIRED})
    now = ctx.now
    won = await ctx.uow.leads.compare_and_set(
        ctx.team_id,
        lead_id,
        expected=[Status.NEW.value],
        values={
            "status": Status.RETURNED.value,
            "updated_at": now,
            "verdict_at": now,
            "reject_detail": reason,
        },
    )
    lead = await ctx.uow.leads.get(ctx.team_id, lead_id)
    if lead is None:
        raise LeadNotFound(lead_id)
    if not won:
        raise IllegalTransition(lead.status, Status.RETURNED.value)
    await ctx.uow.leads.refresh(lead)
    await ctx.uow.events.append(
        team_id=ctx.team_id,
        lead_id=lead.id,
        kind=EventKind.RETURNED,
        actor_id=user_id,
        origin="slack",
        at=now,
        data={"reason": reason},
    )
    await ctx.notifier.refresh_lead_card(lead)
    marketing = await ctx.channel_setting("marketing_channel")
    text = messages.RETURNED_TO_MARKETING.format(
        user=mention(user_id),
        who=escape(lead.name or lead.email) + (f" · {escape(lead.company)}" if lead.company else ""),
        lead_id=lead.id,
        email=escape(lead.email),
        reason=truncate(escape(reason), 2000),
    )
    if marketing:
        await ctx.notifier.post(ctx.team_id, marketing, text, lead_id=lead.id)
    elif lead.submitted_by:  # no marketing channel: tell whoever handed it over
        await ctx.notifier.dm(ctx.team_id, lead.submitted_by, text)
    return lead
