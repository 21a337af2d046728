"""Pure builders for customer signals: the owner's card, the day's batch, the why form, and the
outcome marketing reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import messages
from bot.ids import INPUT_ACTION, ActionId, BlockId, CallbackId
from bot.slack.mrkdwn import escape, mention, truncate


def _who(signal: Any) -> str:
    return f"{escape(signal.name)} ({escape(signal.email)})" if signal.name else escape(signal.email)


def _actions(signal: Any) -> ActionsBlock:
    value = str(signal.id)
    return ActionsBlock(
        block_id=f"signal_{signal.id}",
        elements=[
            ButtonElement(
                text="Reach out", action_id=ActionId.SIGNAL_REACH_OUT.value, value=value, style="primary"
            ),
            ButtonElement(text="Not now", action_id=ActionId.SIGNAL_NOT_NOW.value, value=value),
            ButtonElement(text="Tell marketing why", action_id=ActionId.SIGNAL_WHY.value, value=value),
            ButtonElement(text="Remind me", action_id=ActionId.REMIND_ME.value, value=f"signal:{signal.id}"),
        ],
    )


def _line(signal: Any, company: str) -> str:
    text = messages.SIGNAL_CARD.format(
        company=escape(company), who=_who(signal), activity=escape(signal.activity)
    )
    if signal.source:
        text += f" · source {escape(signal.source)}"
    return truncate(text, 2900)


def _answered(signal: Any) -> ContextBlock:
    """What replaces a signal's buttons once it is answered: who answered what."""
    template = (
        messages.SIGNAL_ANSWERED_REACH_OUT
        if signal.outcome == "reach_out"
        else messages.SIGNAL_ANSWERED_NOT_NOW
    )
    text = template.format(rep=mention(signal.outcome_by))
    if signal.reason:
        text += f" — “{escape(truncate(signal.reason, 500))}”"
    return ContextBlock(block_id=f"signal_{signal.id}", elements=[MarkdownTextObject(text=text)])


def _answer_or_actions(signal: Any) -> Block:
    return _answered(signal) if signal.outcome else _actions(signal)


def signal_card(signal: Any, company: str) -> tuple[str, list[Block]]:
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=_line(signal, company))),
        _answer_or_actions(signal),
    ]
    fallback = f"Signal on your customer {escape(company)}: {escape(signal.activity)}"
    return truncate(fallback, 3000), blocks


def signal_batch(signals: Sequence[Any], companies: Mapping[int, str]) -> tuple[str, list[Block]]:
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=messages.SIGNAL_BATCH.format(count=len(signals))))
    ]
    for signal in signals:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=_line(signal, companies.get(signal.account_id, "?"))))
        )
        blocks.append(_answer_or_actions(signal))
    return f"{len(signals)} signals on your customers today", blocks


def signal_message(signals: Sequence[Any], companies: Mapping[int, str]) -> tuple[str, list[Block]]:
    """A signal card (one) or the day's batch (several), each answered one showing its answer in
    place of the buttons: what the owner's DM shows when posted and after each answer."""
    if len(signals) == 1:
        [signal] = signals
        return signal_card(signal, companies.get(signal.account_id, "?"))
    return signal_batch(signals, companies)


def why_modal(signal_id: int) -> View:
    return View(
        type="modal",
        callback_id=CallbackId.SIGNAL_WHY.value,
        private_metadata=str(signal_id),
        title=PlainTextObject(text="Tell marketing why"),
        submit=PlainTextObject(text="Send"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id=BlockId.SIGNAL_REASON.value,
                label=PlainTextObject(text="Why not now"),
                element=PlainTextInputElement(action_id=INPUT_ACTION, multiline=True, max_length=500),
            )
        ],
    )


def outcome_message(signal: Any, company: str) -> tuple[str]:
    template = (
        messages.SIGNAL_OUTCOME_REACH_OUT
        if signal.outcome == "reach_out"
        else messages.SIGNAL_OUTCOME_NOT_NOW
    )
    text = template.format(
        rep=mention(signal.outcome_by),
        who=_who(signal),
        company=escape(company),
        activity=escape(signal.activity),
    )
    if signal.reason:
        text += f"\n> {escape(signal.reason)}"
    return (text,)
