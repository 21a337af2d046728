"""A bulk batch in Slack: one summary card for many leads ("Dec webinar: 300 new leads · 3 hot
posted on their own", with Claim next), and compact thread messages listing them, each lead
with its own Claim. Pure functions from the data to Block Kit models."""

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
from bot.slack.mrkdwn import escape, mention, truncate
from bot.storage.models import Lead, LeadBatch

LEADS_PER_LINE_MESSAGE = 20  # a thread message lists this many leads (a block each, under Slack's 50)


def line_block_id(lead_id: int) -> str:
    return f"bulk_lead_{lead_id}"


def batch_summary(batch: LeadBatch, counts: dict[str, int]) -> tuple[str, list[Block]]:
    """The summary card: how many, how many hot ones went out on their own, how many wait."""
    total = sum(counts.values()) + batch.hot_count
    unclaimed = counts.get(Status.NEW.value, 0)
    label = escape(truncate(batch.label, 200))
    headline = messages.BULK_SUMMARY.format(label=label, count=total, s="" if total == 1 else "s")
    if batch.hot_count:
        headline += messages.BULK_SUMMARY_HOT.format(hot=batch.hot_count)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=headline)),
        ContextBlock(
            elements=[MarkdownTextObject(text=messages.BULK_SUMMARY_WAITING.format(unclaimed=unclaimed))]
        ),
    ]
    if unclaimed:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=messages.BULK_CLAIM_NEXT,
                        action_id=ActionId.CLAIM_NEXT.value,
                        value=str(batch.id),
                        style="primary",
                    )
                ]
            )
        )
    text = messages.BULK_SUMMARY_FALLBACK.format(label=label, count=total, s="" if total == 1 else "s")
    return text, blocks


def _lead_line(lead: Lead) -> str:
    who = f"*{escape(truncate(lead.name or lead.email, 100))}*"
    parts = [who]
    if lead.company:
        parts.append(escape(truncate(lead.company, 100)))
    if lead.title:
        parts.append(escape(truncate(lead.title, 80)))
    if lead.score is not None:
        parts.append(f"score {lead.score}")
    parts.append(f"#{lead.id}")
    line = " · ".join(parts)
    status = Status(lead.status)
    if status is Status.CLAIMED:
        line += f"\n:raising_hand: Claimed by {mention(lead.owner_id)}"
    elif status is not Status.NEW:
        owner = f" · {mention(lead.owner_id)}" if lead.owner_id else ""
        line += f"\n{status.label}{owner}"
    return line


def batch_lines(batch: LeadBatch, leads: list[Lead]) -> tuple[str, list[Block]]:
    """One thread message: a section per lead, with a Claim button while nobody has it."""
    blocks: list[Block] = []
    for lead in leads:
        accessory = None
        if lead.status == Status.NEW.value:
            accessory = ButtonElement(
                text=messages.BULK_CLAIM, action_id=ActionId.CLAIM.value, value=str(lead.id)
            )
        blocks.append(
            SectionBlock(
                block_id=line_block_id(lead.id),
                text=MarkdownTextObject(text=_lead_line(lead)),
                accessory=accessory,
            )
        )
    text = messages.BULK_LINES_FALLBACK.format(count=len(leads), label=escape(truncate(batch.label, 200)))
    return text, blocks
