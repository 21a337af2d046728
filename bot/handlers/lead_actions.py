"""Buttons on the lead card. Thin: parse the click, call one service, answer the person
(the interaction router acks, loads the lead and translates domain errors). Who may press them is
decided by the lead (bot/handlers/lead_access.py), not by the channel the click names."""

from __future__ import annotations

from bot import messages
from bot.domain.errors import IllegalTransition, LeadNotFound, NotAllowed
from bot.domain.lead import Status
from bot.handlers.interactions import ClickRequest, Interaction, InteractionRouter, SubmissionRequest
from bot.handlers.lead_access import (
    known_member_of,
    known_to_act_on,
    may_act_in_channel,
    may_act_on,
    may_see,
)
from bot.ids import ActionId, BlockId, CallbackId
from bot.services.claims import batch_channel, claim_in_channel, claim_lead, claim_next, lead_to_claim
from bot.services.lead_info import lead_record
from bot.services.lifecycle import load_lead
from bot.services.offers import accept_offer, pass_offer
from bot.services.returns import return_lead
from bot.services.routing import stored_why
from bot.slack.blocks.lead_card import display_name
from bot.slack.blocks.lead_details import details_modal
from bot.slack.blocks.lead_modal import return_modal
from bot.slack.mrkdwn import channel_link, escape
from bot.slack.why import why_text
from bot.storage.models import Lead


def register(interactions: InteractionRouter) -> None:
    interactions.click(ActionId.CLAIM, lead=True)(on_claim)
    interactions.click(ActionId.CLAIM_NEXT)(on_claim_next)
    interactions.click(ActionId.OFFER_ACCEPT, lead=True)(on_offer_accept)
    interactions.click(ActionId.OFFER_PASS, lead=True)(on_offer_pass)
    interactions.click(ActionId.WHY_HERE, load_lead=True)(on_why_here)
    interactions.click(ActionId.DETAILS, load_lead=True)(on_details)
    interactions.click(ActionId.NOT_FOR_US, load_lead=True)(on_not_for_us)
    interactions.submission(CallbackId.LEAD_RETURN, errors_at=BlockId.REASON, fields={}, lead=True)(
        on_return_submitted
    )


async def require_claimer(req: Interaction, lead: Lead) -> None:
    """Members of the lead's own channel, its rule's reps and admins may claim or hand it back,
    whatever channel the click says it came from."""
    if not await may_act_on(req.handoff, req.client, req.team_id, req.user_id, lead):
        raise NotAllowed(
            messages.CLAIM_NOT_MEMBER.format(channel=channel_link(lead.channel_id)),
            why=f"not a member of {lead.channel_id}",
        )


async def require_viewer(req: Interaction, lead: Lead) -> None:
    if not await may_see(req.handoff, req.client, req.team_id, req.user_id, lead):
        raise LeadNotFound(lead.id)  # a private channel's lead does not exist for outsiders


async def on_claim(req: ClickRequest) -> None:
    """One statement when memory already knows the clicker is in the channel the click came from:
    the compare-and-set takes the lead only if it is routed to that channel (permission is still
    the lead's own channel; the click's channel is only where to look first). Otherwise one
    transaction when memory knows the clicker is in the lead's own channel: read the lead, then
    the compare-and-set; else the membership is asked of Slack between two transactions (no Slack
    call ever waits inside one)."""
    channel = req.channel_id
    if channel and known_member_of(req.handoff, req.team_id, req.user_id, channel):
        async with req.transaction() as ctx:
            if await claim_in_channel(ctx, req.lead_id, user_id=req.user_id, channel_id=channel):
                return
    async with req.transaction() as ctx:
        lead = await lead_to_claim(ctx, req.lead_id)
        if known_to_act_on(req.handoff, req.team_id, req.user_id, lead):
            await claim_lead(ctx, req.lead_id, user_id=req.user_id)
            return
    await require_claimer(req, lead)
    async with req.transaction() as ctx:
        await claim_lead(ctx, req.lead_id, user_id=req.user_id)


async def on_claim_next(req: ClickRequest) -> None:
    """ "Claim next" on a bulk batch's summary card (the button's value is the batch ID); for the
    members of the channel the batch was posted to, whatever channel the click names."""
    if not req.click.value.isdigit():
        return
    batch_id = int(req.click.value)
    async with req.transaction() as ctx:
        channel = await batch_channel(ctx, batch_id)
    if not await may_act_in_channel(req.handoff, req.client, req.team_id, req.user_id, channel):
        raise NotAllowed(
            messages.CLAIM_NOT_MEMBER.format(channel=channel_link(channel)),
            why=f"not a member of {channel}",
        )
    async with req.transaction() as ctx:
        got = await claim_next(ctx, batch_id, user_id=req.user_id)
    await req.tell(
        messages.BULK_CLAIMED_NEXT.format(
            lead_id=got.lead.id, name=escape(display_name(got.lead)), label=escape(got.batch.label)
        )
    )


async def on_offer_accept(req: ClickRequest) -> None:
    """Assign mode: the rep the lead was offered to takes it (only that rep can)."""
    async with req.transaction() as ctx:
        await accept_offer(ctx, req.lead_id, user_id=req.user_id)


async def on_offer_pass(req: ClickRequest) -> None:
    async with req.transaction() as ctx:
        await pass_offer(ctx, req.lead_id, user_id=req.user_id)


async def on_why_here(req: ClickRequest) -> None:
    lead = req.lead
    assert lead is not None
    await require_viewer(req, lead)
    async with req.transaction() as ctx:
        detail = await stored_why(ctx, lead.id)
    if detail is not None:
        reason = why_text(detail)  # escapes rule names, lead values and statuses itself
    elif lead.route_reason:
        # a lead routed before decisions were stored: its one-line reason, escaped
        reason = escape(lead.route_reason)
    else:
        await req.tell(messages.WHY_HERE_UNKNOWN.format(lead_id=lead.id))
        return
    await req.tell(
        messages.WHY_HERE.format(lead_id=lead.id, channel=channel_link(lead.channel_id), reason=reason)
    )


async def on_details(req: ClickRequest) -> None:
    assert req.lead is not None
    await require_viewer(req, req.lead)
    async with req.transaction() as ctx:
        record = await lead_record(ctx, req.lead_id)
    rule_name = record.rule.name if record.rule else None
    await req.open_view(
        details_modal(record.lead, record.events, rule_name=rule_name, reasons=record.reasons)
    )


async def on_not_for_us(req: ClickRequest) -> None:
    lead = req.lead
    assert lead is not None
    await require_claimer(req, lead)
    if lead.status != Status.NEW:
        raise IllegalTransition(lead.status, Status.RETURNED.value)  # "only a lead nobody has claimed"
    view = return_modal(lead)
    view.private_metadata = str(lead.id)
    await req.open_view(view)


async def on_return_submitted(req: SubmissionRequest) -> None:
    # the button checked; the submission checks again, against the lead (a modal can be forged)
    async with req.transaction() as ctx:
        lead = await load_lead(ctx, req.lead_id)
    if not await may_act_on(req.handoff, req.client, req.team_id, req.user_id, lead):
        raise NotAllowed(messages.RETURN_NOT_ALLOWED, why=f"not a member of {lead.channel_id}")
    async with req.transaction() as ctx:
        await return_lead(
            ctx, req.lead_id, user_id=req.user_id, reason=req.values.get(BlockId.REASON.value) or ""
        )
