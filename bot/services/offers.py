"""Assign mode (issue 14, item 3): a rule with mode=assign offers each lead to the next rep by round
robin, in a DM with Accept / Pass. Accept claims it (its card goes to the channel, claimed);
Pass, or no answer within the rule's reminder time (the SLA pass calls `hand_on`), offers it to
the next rep who has not had it yet; when none is left, the card goes to the channel for anyone.
Every offer and hand-on is an event: why a lead went to someone is never a mystery."""

from __future__ import annotations

from bot import messages
from bot.domain.errors import LeadAlreadyClaimed, LeadNotFound, NotAllowed
from bot.domain.events import EventKind
from bot.domain.lead import Status
from bot.domain.outbox import Lane
from bot.services import routing as routing_service
from bot.services.context import Ctx
from bot.storage.models import Lead, RoutingRule


def on_offer(lead: Lead, rule: RoutingRule | None) -> bool:
    """The lead waits for one rep's answer in a DM (no card in the channel yet)."""
    return bool(
        rule is not None
        and rule.mode == "assign"
        and lead.status == Status.NEW.value
        and lead.assignee_id
        and lead.message_ts is None
        and lead.batch_id is None
    )


async def offered(ctx: Ctx, lead: Lead, rep: str, *, why: str, lane: Lane = Lane.HOT) -> None:
    """Queue the DM offering `lead` to `rep`, with the event that says why."""
    await ctx.notifier.offer_lead(lead, rep, lane=lane)
    await ctx.uow.events.append(
        team_id=ctx.team_id,
        lead_id=lead.id,
        kind=EventKind.OFFERED,
        actor_id=None,
        origin="system",
        at=ctx.now,
        data={"to": rep, "why": why},
    )


async def accept_offer(ctx: Ctx, lead_id: int, *, user_id: str) -> Lead:
    """The offered rep takes the lead: claimed by them, its card posted to the channel."""
    now = ctx.now
    lead = await ctx.uow.leads.set_if(
        ctx.team_id,
        lead_id,
        expected=[Status.NEW.value],
        offered_to=user_id,
        values={"status": Status.CLAIMED.value, "owner_id": user_id, "claimed_at": now, "updated_at": now},
    )
    if lead is None:
        current = await ctx.uow.leads.get(ctx.team_id, lead_id)
        if current is None:
            raise LeadNotFound(lead_id)
        if current.owner_id:
            raise LeadAlreadyClaimed(current.owner_id)
        raise NotAllowed(messages.OFFER_NOT_YOURS, why="offer moved on")
    await ctx.uow.events.append(
        team_id=ctx.team_id,
        lead_id=lead.id,
        kind=EventKind.CLAIMED,
        actor_id=user_id,
        origin="slack",
        at=now,
        data={"via": "offer"},
    )
    await ctx.notifier.post_lead_card(lead, lane=Lane.PERSON)
    await ctx.notifier.refresh_offer(lead, user_id)
    return lead


async def pass_offer(ctx: Ctx, lead_id: int, *, user_id: str) -> str | None:
    """The offered rep passes: the next rep gets it (returned), or the channel when none is left."""
    lead = await ctx.uow.leads.lock(ctx.team_id, lead_id)
    if lead is None:
        raise LeadNotFound(lead_id)
    rule = await ctx.uow.rules.get(ctx.team_id, lead.rule_id) if lead.rule_id else None
    if not on_offer(lead, rule) or lead.assignee_id != user_id:
        raise NotAllowed(messages.OFFER_NOT_YOURS, why="not offered to them")
    return await hand_on(ctx, lead, rule, from_rep=user_id, why="passed")


async def hand_on(ctx: Ctx, lead: Lead, rule: RoutingRule | None, *, from_rep: str, why: str) -> str | None:
    """Offer the lead to the rule's next rep (bot/services/routing.py) who has not had it; with
    nobody left, post its card to the channel (first click wins, as in claim mode)."""
    had = {
        str(event.data.get("to"))
        for event in await ctx.uow.events.for_lead(ctx.team_id, lead.id)
        if event.kind == EventKind.OFFERED
    } | {from_rep}
    rep = None
    if rule is not None and rule.reps:
        # the rule's own distribution (weights, caps, availability), passing over who had it
        rep = await routing_service.hand_on_rep(ctx, rule, skip={r: "already offered" for r in had})
    # a new offer restarts the clock (stage_changed_at; sla_check_at in the same statement)
    moved = await ctx.uow.leads.set_if(
        ctx.team_id,
        lead.id,
        expected=[Status.NEW.value],
        offered_to=from_rep,
        values={"assignee_id": rep, "stage_changed_at": ctx.now, "updated_at": ctx.now},
    )
    if moved is None:
        raise NotAllowed(messages.OFFER_NOT_YOURS, why="offer moved on")
    await ctx.uow.events.append(
        team_id=ctx.team_id,
        lead_id=lead.id,
        kind=EventKind.OFFER_PASSED,
        actor_id=from_rep if why == "passed" else None,
        origin="slack" if why == "passed" else "scheduler",
        at=ctx.now,
        data={"by": from_rep, "why": why},
    )
    await ctx.notifier.refresh_offer(moved, from_rep)
    if rep is not None:
        await offered(ctx, moved, rep, why=why)
    else:
        await ctx.notifier.post_lead_card(moved, lane=Lane.HOT)
    return rep
