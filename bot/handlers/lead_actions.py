"""Buttons on the lead card. Thin: parse the click, call one service, answer the person
(the interaction router acks, loads the lead and translates domain errors)."""

from __future__ import annotations

from bot import messages
from bot.domain.errors import IllegalTransition, NotAllowed
from bot.domain.lead import Status
from bot.handlers.interactions import ClickRequest, Interaction, InteractionRouter, SubmissionRequest
from bot.ids import ActionId, BlockId, CallbackId
from bot.services.claims import claim_lead, claim_next
from bot.services.lead_info import lead_record
from bot.services.offers import accept_offer, pass_offer
from bot.services.returns import return_lead
from bot.slack.blocks.lead_card import display_name
from bot.slack.blocks.lead_details import details_modal
from bot.slack.blocks.lead_modal import return_modal
from bot.slack.mrkdwn import channel_link, escape


def register(interactions: InteractionRouter) -> None:
    interactions.click(ActionId.CLAIM, lead=True)(on_claim)
    interactions.click(ActionId.CLAIM_NEXT)(on_claim_next)
    interactions.click(ActionId.OFFER_ACCEPT, lead=True)(on_offer_accept)
    interactions.click(ActionId.OFFER_PASS, lead=True)(on_offer_pass)
    interactions.click(ActionId.WHY_HERE, load_lead=True)(on_why_here)
    interactions.click(ActionId.DETAILS, lead=True)(on_details)
    interactions.click(ActionId.NOT_FOR_US, load_lead=True)(on_not_for_us)
    interactions.submission(CallbackId.LEAD_RETURN, errors_at=BlockId.REASON, fields={}, lead=True)(
        on_return_submitted
    )


async def may_claim(req: Interaction, channel_id: str | None) -> bool:
    """Members of the card's channel, configured reps, and admins may claim.

    Cheapest first: the admin list, then channel membership (remembered for a minute, so a click
    usually costs neither a Web API call nor a query), and the routing rules' reps only for
    someone who is not in the channel."""
    handoff = req.handoff
    if req.user_id in handoff.settings.admins:
        return True
    if channel_id and await handoff.channel_members.is_member(
        req.client, req.team_id, channel_id, req.user_id
    ):
        return True
    async with handoff.uow() as uow:
        reps = {rep for rule in await uow.rules.all(req.team_id) for rep in (rule.reps or [])}
    return req.user_id in reps


async def require_claimer(req: ClickRequest) -> None:
    if not await may_claim(req, req.channel_id):
        raise NotAllowed(
            messages.CLAIM_NOT_MEMBER.format(channel=channel_link(req.channel_id)),
            why=f"not a member of {req.channel_id}",
        )


async def on_claim(req: ClickRequest) -> None:
    await require_claimer(req)
    async with req.transaction() as ctx:
        await claim_lead(ctx, req.lead_id, user_id=req.user_id)


async def on_claim_next(req: ClickRequest) -> None:
    """ "Claim next" on a bulk batch's summary card (the button's value is the batch ID)."""
    await require_claimer(req)
    if not req.click.value.isdigit():
        return
    async with req.transaction() as ctx:
        got = await claim_next(ctx, int(req.click.value), user_id=req.user_id)
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
    if not lead.route_reason:
        await req.tell(messages.WHY_HERE_UNKNOWN.format(lead_id=lead.id))
        return
    # route_reason quotes rule names and lead values (e.g. "region is <x>"): escape it
    await req.tell(
        messages.WHY_HERE.format(
            lead_id=lead.id, channel=channel_link(lead.channel_id), reason=escape(lead.route_reason)
        )
    )


async def on_details(req: ClickRequest) -> None:
    async with req.transaction() as ctx:
        record = await lead_record(ctx, req.lead_id)
    rule_name = record.rule.name if record.rule else None
    await req.open_view(
        details_modal(record.lead, record.events, rule_name=rule_name, reasons=record.reasons)
    )


async def on_not_for_us(req: ClickRequest) -> None:
    lead = req.lead
    assert lead is not None
    await require_claimer(req)
    if lead.status != Status.NEW:
        raise IllegalTransition(lead.status, Status.RETURNED.value)  # "only a lead nobody has claimed"
    view = return_modal(lead)
    view.private_metadata = f"{lead.id}:{req.channel_id or ''}"
    await req.open_view(view)


async def on_return_submitted(req: SubmissionRequest) -> None:
    # the button checked; the submission checks again (a modal can be forged)
    if not await may_claim(req, req.submission.metadata_rest or None):
        raise NotAllowed(messages.RETURN_NOT_ALLOWED, why="may not hand leads back")
    async with req.transaction() as ctx:
        await return_lead(
            ctx, req.lead_id, user_id=req.user_id, reason=req.values.get(BlockId.REASON.value) or ""
        )
