"""Field insights: `/insight <text> [#tag]` and the message shortcut *Send to marketing* with its
form (issue 19)."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.models.views import View

from bot import messages
from bot.domain.errors import InvalidInput, LeadNotFound
from bot.handlers.interactions import InteractionRouter, SubmissionRequest
from bot.handlers.lead_access import may_see
from bot.handlers.router import CommandRequest, CommandRouter
from bot.ids import BlockId, CallbackId, Command, Shortcut
from bot.services import insights
from bot.services.lifecycle import load_lead
from bot.slack.blocks.insights import insight_modal
from bot.slack.payloads import extract_message_shortcut

log = logging.getLogger(__name__)


def register(bolt: AsyncApp, routers: dict[Command, CommandRouter], interactions: InteractionRouter) -> None:
    routers[Command.INSIGHT].fallback(insight_command)
    bolt.shortcut(Shortcut.SEND_TO_MARKETING.value)(on_send_to_marketing)
    interactions.submission(
        CallbackId.INSIGHT,
        errors_at=BlockId.INSIGHT_TEXT,
        fields={"text": BlockId.INSIGHT_TEXT, "lead": BlockId.LEAD_REF},
    )(on_insight_submitted)


def split_lead_ref(text: str) -> tuple[int | None, str]:
    """'lead 12 they balk at the price' → (12, 'they balk at the price')."""
    m = re.match(r"\s*lead\s+#?(\d{1,12})\b[\s:,-]*", text, flags=re.IGNORECASE)
    if m:
        return int(m.group(1)), text[m.end() :]
    return None, text


async def _visible_lead(req: CommandRequest | SubmissionRequest, lead_id: int | None) -> None:
    if lead_id is None:
        return
    async with req.handoff.open_context(req.team_id) as ctx:
        lead = await load_lead(ctx, lead_id)
    if not await may_see(req.handoff, req.client, req.team_id, req.user_id, lead):
        raise LeadNotFound(lead_id)


async def insight_command(req: CommandRequest) -> None:
    lead_id, text = split_lead_ref(req.args)
    if not text.strip():
        await req.ack(text=messages.INSIGHT_USAGE)
        return
    try:
        await _visible_lead(req, lead_id)
    except LeadNotFound:
        await req.ack(text=messages.LEAD_NOT_FOUND.format(lead_id=lead_id))
        return
    async with req.handoff.open_context(req.team_id) as ctx:
        insight = await insights.share(ctx, author_id=req.user_id, text=text, lead_id=lead_id)
    tags = " " + " ".join(f"#{t}" for t in insight.tags) if insight.tags else ""
    await req.ack(text=messages.INSIGHT_SHARED.format(tags=f" ({tags.strip()})" if tags else ""))


async def on_send_to_marketing(ack: Any, body: dict[str, Any], client: Any) -> None:
    await ack()
    shortcut = extract_message_shortcut(body)
    # direct: the trigger_id is good for 3 seconds only
    await client.views_open(
        trigger_id=shortcut.trigger_id,
        view=insight_modal(text=shortcut.text, metadata=f"{shortcut.channel_id}:{shortcut.message_ts}"),
    )


async def on_insight_submitted(req: SubmissionRequest) -> View | None:
    raw_lead = str(req.values.get(BlockId.LEAD_REF.value) or "").strip().lstrip("#")
    if raw_lead and not raw_lead.isdigit():
        raise InvalidInput({"lead": "A lead ID is a number, like 42."})
    lead_id = int(raw_lead) if raw_lead else None
    try:
        await _visible_lead(req, lead_id)
    except LeadNotFound:
        raise InvalidInput({"lead": messages.LEAD_NOT_FOUND.format(lead_id=lead_id)}) from None
    channel, _, ts = req.metadata.partition(":")
    permalink = None
    if channel and ts:
        try:  # before the transaction: no Slack call waits inside one
            permalink = (await req.client.chat_getPermalink(channel=channel, message_ts=ts)).get("permalink")
        except Exception as exc:  # the insight stands without its link
            log.warning("no permalink for a shared message: %s", exc)
    async with req.transaction() as ctx:
        await insights.share(
            ctx,
            author_id=req.user_id,
            text=str(req.values.get(BlockId.INSIGHT_TEXT.value) or ""),
            tags=str(req.values.get(BlockId.TAGS.value) or ""),
            lead_id=lead_id,
            permalink=permalink,
        )
    return None
