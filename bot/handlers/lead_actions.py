"""Buttons on the lead card. Thin: parse the click, call one service, answer the person."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.domain.errors import LeadAlreadyClaimed, LeadNotFound, NotAllowed
from bot.ids import ActionId
from bot.services.claims import claim_lead
from bot.slack.mrkdwn import channel_link, mention
from bot.slack.payloads import ActionClick, extract_click

log = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.action(ActionId.CLAIM.value)(on_claim)


async def tell(respond: AsyncRespond, text: str) -> None:
    """An ephemeral answer to the clicker, straight away, through the click's response_url
    (chat.postEphemeral would fail for someone who is not in the channel)."""
    try:
        await respond(text=text, response_type="ephemeral", replace_original=False)
    except Exception as exc:  # an answer we cannot deliver must not fail the click
        log.warning("could not answer a click: %s", exc)


async def may_claim(client: AsyncWebClient, handoff: Any, click: ActionClick) -> bool:
    """Members of the card's channel, configured reps, and admins may claim."""
    if click.user_id in handoff.settings.admins:
        return True
    async with handoff.uow() as uow:
        reps = {rep for rule in await uow.rules.all(click.team_id) for rep in (rule.reps or [])}
    if click.user_id in reps:
        return True
    if not click.channel_id:
        return False
    cursor = None
    while True:
        page = await client.conversations_members(channel=click.channel_id, cursor=cursor, limit=1000)
        if click.user_id in page.get("members", []):
            return True
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return False


async def on_claim(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, context: Any
) -> None:
    await ack()
    handoff = context["handoff"]
    click = extract_click(body)
    if click.lead_id is None:
        return
    if not await may_claim(client, handoff, click):
        log.warning("claim refused: %s is not a member of %s", click.user_id, click.channel_id)
        await tell(respond, messages.CLAIM_NOT_MEMBER.format(channel=channel_link(click.channel_id)))
        return
    try:
        async with handoff.transaction(click.team_id) as ctx:
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
