"""Pure builders for after the close: customers, follow-ups, the Remind me form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.retention import retention_lines
from bot.ids import INPUT_ACTION, ActionId, BlockId, CallbackId
from bot.slack.blocks.lead_card import slack_date
from bot.slack.mrkdwn import escape, mention, truncate

MAX_ROWS = 20  # two blocks a customer, under Slack's 50


def account_line(account: Any) -> str:
    domain = f" · {escape(account.domain)}" if account.domain else ""
    owner = f"owner {mention(account.owner_id)}" if account.owner_id else "no owner"
    won = f" · {account.won_leads} won" if getattr(account, "won_leads", 0) else ""
    return f"#{account.id} *{escape(account.company or account.key)}*{domain} · {owner}{won}"


def accounts_message(accounts: Sequence[Any], title: str = "Customers") -> tuple[str, list[Block]]:
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"*{escape(title)} ({len(accounts)})*"))]
    for account in accounts[:MAX_ROWS]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(account_line(account), 2900))))
        blocks.append(
            ActionsBlock(
                block_id=f"account_{account.id}",
                elements=[
                    ButtonElement(
                        text="Remind me", action_id=ActionId.REMIND_ME.value, value=f"account:{account.id}"
                    ),
                    ButtonElement(
                        text="Add a referral",
                        action_id=ActionId.ACCOUNT_REFERRAL.value,
                        value=str(account.id),
                    ),
                ],
            )
        )
    if len(accounts) > MAX_ROWS:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"…and {len(accounts) - MAX_ROWS} more.")])
        )
    return f"{len(accounts)} customers.", blocks


def followup_line(followup: Any) -> str:
    what = (
        f"lead #{followup.lead_id}"
        if followup.lead_id
        else (f"customer #{followup.account_id}" if followup.account_id else "a reminder")
    )
    note = f" — {escape(truncate(followup.note, 200))}" if followup.note else ""
    return f"• {slack_date(followup.due_at)} · {what}{note}"


def followups_blocks(followups: Sequence[Any], title: str) -> list[Block]:
    if not followups:
        return []
    text = title + "\n" + "\n".join(followup_line(f) for f in followups)
    return [SectionBlock(text=MarkdownTextObject(text=truncate(text, 2900)))]


def remind_modal(target: str, label: str) -> View:
    """`target` is 'lead:12' | 'account:3' | 'signal:5': an ID only, in private_metadata."""
    return View(
        type="modal",
        callback_id=CallbackId.REMIND_ME.value,
        private_metadata=target,
        title=PlainTextObject(text="Remind me"),
        submit=PlainTextObject(text="Remind me"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(text=f"A DM to you, once, in your working hours: {escape(label)}")
            ),
            InputBlock(
                block_id=BlockId.WHEN.value,
                label=PlainTextObject(text="When"),
                hint=PlainTextObject(text="in 3 days · tomorrow · next monday · 2026-12-15"),
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION, initial_value="in 3 days", max_length=40
                ),
            ),
            InputBlock(
                block_id=BlockId.NOTE.value,
                label=PlainTextObject(text="Note"),
                optional=True,
                element=PlainTextInputElement(action_id=INPUT_ACTION, max_length=500),
            ),
        ],
    )


def remind_button(target: str) -> ButtonElement:
    return ButtonElement(text="Remind me", action_id=ActionId.REMIND_ME.value, value=target)


def remind_actions(target: str) -> ActionsBlock:
    return ActionsBlock(elements=[remind_button(target)])


def retention_blocks(numbers: Any, customers: Sequence[Any], *, mine: bool) -> list[Block]:
    """Home's after-the-close section: the week's retention numbers and the customers (the rep's
    own, or everyone's for marketing and admins)."""
    show_numbers = numbers is not None and not numbers.empty
    if not show_numbers and not customers:
        return []  # nothing after the close yet: the page stays as it was
    blocks: list[Block] = [DividerBlock()]
    if show_numbers:
        text = "*:handshake: After the close · last 7 days*\n" + "\n".join(retention_lines(numbers))
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(text, 2900))))
    if customers:
        title = "*Your customers*" if mine else "*Customers*"
        lines = "\n".join(f"• {account_line(a)}" for a in customers)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(f"{title}\n{lines}", 2900))))
    return blocks


def referral_modal(account: Any) -> View:
    return View(
        type="modal",
        callback_id=CallbackId.REFERRAL.value,
        private_metadata=str(account.id),
        title=PlainTextObject(text="Add a referral"),
        submit=PlainTextObject(text="Hand over"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"Someone *{escape(account.company or account.key)}* referred: a new lead, credited to them and you."
                )
            ),
            InputBlock(
                block_id=BlockId.EMAIL.value,
                label=PlainTextObject(text="Email"),
                element=PlainTextInputElement(action_id=INPUT_ACTION, max_length=320),
            ),
        ],
    )
