"""Assign mode's DM: the lead offered to one rep with Accept / Pass, and what it says once the
rep answered or the lead went on to the next rep. Pure functions to Block Kit models."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import messages
from bot.domain.lead import Status
from bot.ids import ActionId
from bot.slack.blocks.lead_card import display_name
from bot.slack.mrkdwn import channel_link, escape, mention, truncate
from bot.storage.models import Lead


def _facts(lead: Lead) -> str:
    parts = [escape(truncate(p, 200)) for p in (lead.title, lead.email, lead.source, lead.campaign) if p]
    if lead.score is not None:
        parts.append(f"score {lead.score}")
    return " · ".join(parts)


def offer_message(lead: Lead, rep: str) -> tuple[str, list[Block]]:
    """The DM as it should read now for `rep`."""
    name = escape(display_name(lead))
    if lead.status == Status.NEW.value and lead.assignee_id == rep and lead.message_ts is None:
        text = messages.OFFER_TEXT.format(name=name)
        return text, [
            SectionBlock(
                text=MarkdownTextObject(text=f"{messages.OFFER_HEADLINE}\n*{name}*\n{_facts(lead)}")
            ),
            ContextBlock(elements=[MarkdownTextObject(text=messages.OFFER_CONTEXT.format(lead_id=lead.id))]),
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=messages.OFFER_ACCEPT,
                        action_id=ActionId.OFFER_ACCEPT.value,
                        value=str(lead.id),
                        style="primary",
                    ),
                    ButtonElement(
                        text=messages.OFFER_PASS, action_id=ActionId.OFFER_PASS.value, value=str(lead.id)
                    ),
                ]
            ),
        ]
    if lead.owner_id == rep:
        text = messages.OFFER_ACCEPTED.format(
            name=name, lead_id=lead.id, channel=channel_link(lead.channel_id)
        )
    elif lead.owner_id:
        text = messages.OFFER_TAKEN.format(name=name, lead_id=lead.id, owner=mention(lead.owner_id))
    else:
        text = messages.OFFER_HANDED_ON.format(name=name, lead_id=lead.id)
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]
