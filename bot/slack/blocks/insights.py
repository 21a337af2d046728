"""Pure builders for field insights: the marketing channel's message and the Send to marketing form."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import messages
from bot.ids import INPUT_ACTION, BlockId, CallbackId
from bot.slack.blocks.lead_card import display_name
from bot.slack.mrkdwn import escape, mention, truncate


def insight_message(insight: Any, *, lead: Any = None, account: Any = None) -> tuple[str, list[Block]]:
    link = ""
    if lead is not None:
        link = f" · lead #{lead.id} {escape(display_name(lead))}"
    if account is not None:
        link += f" · customer *{escape(account.company or account.key)}*"
    title = messages.INSIGHT_TITLE.format(author=mention(insight.author_id), link=link)
    quote = "\n".join(f"> {line}" for line in escape(truncate(insight.text, 2500)).splitlines() or [""])
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"{title}\n{quote}"))]
    context = [f"#{tag}" for tag in insight.tags or []]
    if insight.permalink:
        context.append(f"<{escape(insight.permalink)}|original message>")
    if context:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(context))]))
    tags = " ".join(f"#{t}" for t in insight.tags or [])
    return f"Field insight from a rep{(': ' + tags) if tags else ''}", blocks


def insight_modal(*, text: str, metadata: str) -> View:
    """The message shortcut's form: the message's words, editable; tags; the lead it is about.
    `metadata` is '<channel>:<ts>' of the message (IDs only)."""
    return View(
        type="modal",
        callback_id=CallbackId.INSIGHT.value,
        private_metadata=metadata[:200],
        title=PlainTextObject(text="Send to marketing"),
        submit=PlainTextObject(text="Send"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id=BlockId.INSIGHT_TEXT.value,
                label=PlainTextObject(text="What they said"),
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION, multiline=True, initial_value=text[:2000] or None, max_length=2000
                ),
            ),
            InputBlock(
                block_id=BlockId.TAGS.value,
                label=PlainTextObject(text="Tags"),
                optional=True,
                hint=PlainTextObject(text="e.g. pricing onboarding competitor"),
                element=PlainTextInputElement(action_id=INPUT_ACTION, max_length=200),
            ),
            InputBlock(
                block_id=BlockId.LEAD_REF.value,
                label=PlainTextObject(text="Lead ID"),
                optional=True,
                element=PlainTextInputElement(action_id=INPUT_ACTION, max_length=20),
            ),
        ],
    )
