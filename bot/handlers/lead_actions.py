"""Buttons on the lead card. Thin: parse the click, call one service, answer the person."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.domain.errors import IllegalTransition, InvalidInput, LeadAlreadyClaimed, LeadNotFound, NotAllowed
from bot.domain.lead import Status
from bot.ids import ActionId, BlockId, CallbackId
from bot.services.claims import claim_lead
from bot.services.lead_info import LeadRecord, lead_record
from bot.services.returns import return_lead
from bot.slack.blocks.lead_details import details_modal
from bot.slack.blocks.lead_modal import return_modal
from bot.slack.mrkdwn import channel_link, escape, mention
from bot.slack.payloads import ActionClick, extract_click, view_team_user, view_values

log = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.action(ActionId.CLAIM.value)(on_claim)
    app.action(ActionId.WHY_HERE.value)(on_why_here)
    app.action(ActionId.DETAILS.value)(on_details)
    app.action(ActionId.NOT_FOR_US.value)(on_not_for_us)
    app.view(CallbackId.LEAD_RETURN.value)(on_return_submitted)


async def tell(respond: AsyncRespond, text: str) -> None:
    """An ephemeral answer to the clicker, straight away, through the click's response_url
    (chat.postEphemeral would fail for someone who is not in the channel)."""
    try:
        await respond(text=text, response_type="ephemeral", replace_original=False)
    except Exception as exc:  # an answer we cannot deliver must not fail the click
        log.warning("could not answer a click: %s", exc)


async def may_claim(client: AsyncWebClient, handoff: Any, click: ActionClick) -> bool:
    """Members of the card's channel, configured reps, and admins may claim.

    Cheapest first: the admin list, then channel membership (remembered for a minute, so a click
    usually costs neither a Web API call nor a query), and the routing rules' reps only for
    someone who is not in the channel."""
    if click.user_id in handoff.settings.admins:
        return True
    if click.channel_id and await handoff.channel_members.is_member(
        client, click.team_id, click.channel_id, click.user_id
    ):
        return True
    async with handoff.uow() as uow:
        reps = {rep for rule in await uow.rules.all(click.team_id) for rep in (rule.reps or [])}
    return click.user_id in reps


async def refuse_non_member(respond: AsyncRespond, click: ActionClick) -> None:
    """Refusals are security events: logged with who, where and what (never the body)."""
    log.warning("%s refused: %s is not a member of %s", click.action_id, click.user_id, click.channel_id)
    await tell(respond, messages.CLAIM_NOT_MEMBER.format(channel=channel_link(click.channel_id)))


async def claimable_click(
    body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, handoff: Any
) -> ActionClick | None:
    """The click, if it names a lead and its clicker may act on unclaimed leads (else refused)."""
    click = extract_click(body)
    if click.lead_id is None:
        return None
    if not await may_claim(client, handoff, click):
        await refuse_non_member(respond, click)
        return None
    return click


async def on_claim(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, context: Any
) -> None:
    await ack()
    handoff = context["handoff"]
    click = await claimable_click(body, client, respond, handoff)
    if click is None:
        return
    try:
        async with handoff.open_context(click.team_id) as ctx:
            await claim_lead(ctx, click.lead_id, user_id=click.user_id)
    except LeadAlreadyClaimed as exc:
        text = (
            messages.ALREADY_CLAIMED_BY_YOU
            if exc.owner_id == click.user_id
            else messages.ALREADY_CLAIMED.format(owner=mention(exc.owner_id))
        )
        await tell(respond, text)
    except LeadNotFound:
        # a lead of another workspace, or a forged ID: refuse, and say who tried (never the body)
        log.warning(
            "claim refused: %s asked for lead %s, not found in workspace %s",
            click.user_id,
            click.lead_id,
            click.team_id,
        )
        await tell(respond, messages.LEAD_NOT_FOUND.format(lead_id=click.lead_id))
    except NotAllowed as exc:
        await tell(respond, str(exc))


async def clicked_record(
    body: dict[str, Any], respond: AsyncRespond, context: Any
) -> tuple[ActionClick, LeadRecord] | None:
    """The lead a card button is about, with its history; None when there is none (the clicker
    is told when the lead has gone)."""
    click = extract_click(body)
    if click.lead_id is None:
        return None
    try:
        async with context["handoff"].open_context(click.team_id) as ctx:
            record = await lead_record(ctx, click.lead_id)
    except LeadNotFound:
        await tell(respond, messages.LEAD_NOT_FOUND.format(lead_id=click.lead_id))
        return None
    return click, record


async def on_why_here(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: Any) -> None:
    await ack()
    found = await clicked_record(body, respond, context)
    if found is None:
        return
    lead = found[1].lead
    if not lead.route_reason:
        await tell(respond, messages.WHY_HERE_UNKNOWN.format(lead_id=lead.id))
        return
    # route_reason quotes rule names and lead values (e.g. "region is <x>"): escape it
    text = messages.WHY_HERE.format(
        lead_id=lead.id, channel=channel_link(lead.channel_id), reason=escape(lead.route_reason)
    )
    await tell(respond, text)


async def on_details(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, context: Any
) -> None:
    await ack()
    found = await clicked_record(body, respond, context)
    if found is None:
        return
    click, record = found
    view = details_modal(
        record.lead,
        record.events,
        rule_name=record.rule.name if record.rule else None,
        reasons=record.reasons,
    )
    await client.views_open(trigger_id=click.trigger_id, view=view)


async def on_not_for_us(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, context: Any
) -> None:
    await ack()
    handoff = context["handoff"]
    click = await claimable_click(body, client, respond, handoff)
    if click is None:
        return
    async with handoff.uow() as uow:
        lead = await uow.leads.get(click.team_id, click.lead_id)
    if lead is None:
        await tell(respond, messages.LEAD_NOT_FOUND.format(lead_id=click.lead_id))
        return
    if lead.status != Status.NEW:
        await tell(respond, messages.RETURN_NOT_NEW.format(lead_id=lead.id, status=Status(lead.status).label))
        return
    view = return_modal(lead)
    view.private_metadata = f"{lead.id}:{click.channel_id or ''}"
    await client.views_open(trigger_id=click.trigger_id, view=view)


async def on_return_submitted(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any
) -> None:
    handoff = context["handoff"]
    team_id, user_id = view_team_user(body)
    view = body.get("view") or {}
    lead_part, _, channel_id = str(view.get("private_metadata") or "").partition(":")
    if not lead_part.isdigit():
        await ack()
        return
    lead_id = int(lead_part)
    reason = view_values(view).get(BlockId.REASON.value) or ""
    click = ActionClick(
        team_id=team_id,
        user_id=user_id,
        action_id="",
        value=lead_part,
        channel_id=channel_id or None,
        message_ts=None,
        trigger_id="",
        view_id=view.get("id"),
    )
    if not await may_claim(client, handoff, click):  # the button checked; the submission checks again
        await ack(response_action="errors", errors={BlockId.REASON.value: "You can't hand this lead back."})
        return
    try:
        async with handoff.open_context(team_id) as ctx:
            await return_lead(ctx, lead_id, user_id=user_id, reason=reason)
    except InvalidInput as exc:
        await ack(response_action="errors", errors={BlockId.REASON.value: next(iter(exc.errors.values()))})
        return
    except IllegalTransition as exc:
        text = messages.RETURN_NOT_NEW.format(lead_id=lead_id, status=Status(exc.current).label)
        await ack(response_action="errors", errors={BlockId.REASON.value: text[:150]})
        return
    except LeadNotFound:
        await ack(response_action="errors", errors={BlockId.REASON.value: "This lead no longer exists."})
        return
    await ack()
