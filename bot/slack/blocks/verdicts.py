"""Pure builders for verdicts and the lifecycle: the Accept / Reject / Won / Lost modals, the
feedback message marketing receives, and short thread notes. Untrusted text is escaped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.lead import Status
from bot.ids import INPUT_ACTION, BlockId, CallbackId
from bot.slack.blocks.lead_card import display_name, minutes_between
from bot.slack.mrkdwn import escape, mention, truncate

QUALITY_LABELS = {
    5: "5 — excellent",
    4: "4 — good",
    3: "3 — fair",
    2: "2 — weak",
    1: "1 — poor",
}


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    actor_id: str
    quality: int | None = None
    comment: str | None = None
    reason: str | None = None  # the label people read
    detail: str | None = None  # the words given with "Other"
    nurture: bool = False


# -- modals ---------------------------------------------------------------------------------


def _metadata(lead: Any) -> str:
    return json.dumps({"lead_id": lead.id})


def lead_id_from_view(view: dict[str, Any]) -> int | None:
    """The lead a submitted modal is about (written by the builders below)."""
    try:
        value = json.loads(view.get("private_metadata") or "{}").get("lead_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _about(lead: Any) -> SectionBlock:
    return SectionBlock(
        text=MarkdownTextObject(text=f"*{truncate(escape(display_name(lead)), 2900)}* · #{lead.id}")
    )


def _quality_input() -> InputBlock:
    options = [Option(text=label, value=str(q)) for q, label in QUALITY_LABELS.items()]
    return InputBlock(
        block_id=BlockId.QUALITY.value,
        label="Lead quality",
        element=StaticSelectElement(
            action_id=INPUT_ACTION, placeholder="How good was this lead?", options=options
        ),
        hint="Marketing sees this rating: it tells them which leads to send more of.",
    )


def _comment_input(limit: int) -> InputBlock:
    return InputBlock(
        block_id=BlockId.COMMENT.value,
        label="Comment for marketing",
        element=PlainTextInputElement(action_id=INPUT_ACTION, multiline=True, max_length=limit),
        optional=True,
    )


def _modal(callback: CallbackId, title: str, submit: str, lead: Any, blocks: list[Block]) -> View:
    return View(
        type="modal",
        callback_id=callback.value,
        title=truncate(title, 24),
        submit=submit,
        close="Cancel",
        private_metadata=_metadata(lead),
        blocks=[_about(lead), *blocks],
    )


def accept_modal(lead: Any, *, comment_limit: int = 2000) -> View:
    return _modal(
        CallbackId.LEAD_ACCEPT,
        "Accept lead",
        "Accept",
        lead,
        [_quality_input(), _comment_input(comment_limit)],
    )


def reject_modal(
    lead: Any, reasons: dict[str, str], *, detail_limit: int = 500, comment_limit: int = 2000
) -> View:
    options = [Option(text=truncate(label, 75), value=code) for code, label in list(reasons.items())[:100]]
    reason = InputBlock(
        block_id=BlockId.REASON.value,
        label="Reason",
        element=StaticSelectElement(action_id=INPUT_ACTION, placeholder="Why not?", options=options),
    )
    other = InputBlock(
        block_id=BlockId.REASON_OTHER.value,
        label="If other, what?",
        element=PlainTextInputElement(action_id=INPUT_ACTION, max_length=detail_limit),
        optional=True,
    )
    return _modal(
        CallbackId.LEAD_REJECT,
        "Reject lead",
        "Reject",
        lead,
        [reason, other, _quality_input(), _comment_input(comment_limit)],
    )


def won_modal(lead: Any, *, currency: str = "USD") -> View:
    amount = InputBlock(
        block_id=BlockId.AMOUNT.value,
        label="Deal amount",
        element=PlainTextInputElement(action_id=INPUT_ACTION, placeholder="e.g. 12000", max_length=20),
    )
    code = InputBlock(
        block_id=BlockId.CURRENCY.value,
        label="Currency",
        element=PlainTextInputElement(action_id=INPUT_ACTION, initial_value=currency, max_length=3),
        hint="Three-letter code: USD, EUR, GBP…",
    )
    return _modal(CallbackId.LEAD_WON, "Won the deal", "Mark won", lead, [amount, code])


def lost_modal(lead: Any, *, limit: int = 500) -> View:
    reason = InputBlock(
        block_id=BlockId.LOST_REASON.value,
        label="Why was it lost?",
        element=PlainTextInputElement(action_id=INPUT_ACTION, multiline=True, max_length=limit),
    )
    return _modal(CallbackId.LEAD_LOST, "Lost the deal", "Mark lost", lead, [reason])


# -- what marketing (and the card's thread) hears -------------------------------------------


def stars(quality: int | None) -> str:
    if not quality:
        return "—"
    return f"{'★' * quality}{'☆' * (5 - quality)} {quality}/5"


def _field(label: str, value: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=f"*{label}*\n{truncate(value, 1900)}")


def _lead_context(lead: Any) -> ContextBlock:
    parts = [f"#{lead.id}", escape(lead.email)]
    if lead.source or lead.campaign:
        parts.append(" / ".join(escape(p) for p in (lead.source, lead.campaign) if p))
    return ContextBlock(elements=[MarkdownTextObject(text=" · ".join(parts))])


def verdict_message(lead: Any, verdict: Verdict) -> tuple[str, list[Block]]:
    """Lead, verdict, reason, rating, comment, who and how long after arrival."""
    name = escape(display_name(lead))
    after = minutes_between(lead.created_at, lead.verdict_at)
    if verdict.accepted:
        headline = f":white_check_mark: *Sales accepted* {name}"
        text = f"Sales accepted {name} ({mention(verdict.actor_id)}, {after} after arrival)"
    else:
        headline = f":x: *Sales rejected* {name}"
        text = f"Sales rejected {name}: {escape(verdict.reason)} ({mention(verdict.actor_id)}, {after} after arrival)"
    fields = [
        _field("Verdict", "Accepted" if verdict.accepted else "Rejected"),
        _field("By", mention(verdict.actor_id)),
        _field("Quality", stars(verdict.quality)),
        _field("After arrival", after),
    ]
    if not verdict.accepted:
        reason = escape(verdict.reason)
        if verdict.detail:
            reason += f": {escape(verdict.detail)}"
        fields.insert(1, _field("Reason", reason))
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=truncate(headline, 2900))),
        SectionBlock(fields=fields),
    ]
    if verdict.comment:
        comment = truncate(escape(verdict.comment), 2900)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Comment*\n{comment}")))
    if verdict.nurture:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=":seedling: Flagged for nurture: it is on marketing's `/lead nurture` list."
                )
            )
        )
    blocks.append(_lead_context(lead))
    return truncate(text, 3000), blocks


def amount_text(lead: Any) -> str:
    if lead.won_amount is None:
        return "—"
    return f"{lead.won_amount:,.2f} {escape(lead.currency or '')}".strip()


def outcome_message(lead: Any, *, actor_id: str) -> tuple[str, list[Block]]:
    """A deal's end, for the thread and for marketing: won (amount) or lost (why)."""
    name = escape(display_name(lead))
    since = minutes_between(lead.created_at, lead.won_at if lead.status == Status.WON else lead.lost_at)
    if lead.status == Status.WON:
        headline = f":trophy: *Won* {name} · {amount_text(lead)}"
        text = f"Won {name}: {amount_text(lead)} ({mention(actor_id)})"
        detail = _field("Amount", amount_text(lead))
    else:
        headline = f":heavy_multiplication_x: *Lost* {name}"
        text = f"Lost {name}: {escape(lead.lost_reason)} ({mention(actor_id)})"
        detail = _field("Why", escape(lead.lost_reason))
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=truncate(headline, 2900))),
        SectionBlock(fields=[detail, _field("By", mention(actor_id)), _field("After arrival", since)]),
        _lead_context(lead),
    ]
    return truncate(text, 3000), blocks


def stage_note(lead: Any, *, actor_id: str) -> str:
    return f":arrow_right: {mention(actor_id)} moved this lead to *{Status(lead.status).label}*."


def release_note(*, actor_id: str, owner_id: str | None) -> str:
    if owner_id and owner_id != actor_id:
        return f":leftwards_arrow_with_hook: {mention(actor_id)} released this lead (owner was {mention(owner_id)}); it is open to claim again."
    return f":leftwards_arrow_with_hook: {mention(actor_id)} released this lead; it is open to claim again."
