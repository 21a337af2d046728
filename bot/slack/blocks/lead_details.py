"""The Details modal: a lead's full record, its free fields and its history, all escaped."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.lead import Status
from bot.domain.reasons import REJECT_REASONS, reason_label
from bot.ids import CallbackId
from bot.slack.blocks.lead_card import display_name, slack_date
from bot.slack.mrkdwn import escape, mention, truncate
from bot.storage.models import Lead, LeadEvent

MAX_EVENTS = 40  # the newest ones; a modal holds 100 blocks and this keeps it readable


def _field(label: str, value: object) -> MarkdownTextObject:
    text = escape(value) if value not in (None, "") else "—"
    return MarkdownTextObject(text=f"*{label}*\n{truncate(text, 1900)}")


def _event_line(event: LeadEvent) -> str:
    who = mention(event.actor_id) if event.actor_id and event.actor_id[:1] in "UW" else escape(event.origin)
    kind = event.kind.replace("_", " ")
    data = event.data or {}
    extra = ""
    if event.kind == "stage" and data.get("to"):
        extra = f" → {escape(data.get('to'))}"
    elif data.get("reason"):
        reason = str(data["reason"])
        extra = f": {escape(REJECT_REASONS.get(reason, reason))}"
    elif event.kind == "resubmitted":
        extra = f" ({escape(' · '.join(str(v) for v in (data.get('source'), data.get('campaign')) if v) or 'no source')})"
    return f"{slack_date(event.created_at)} · *{escape(kind)}* by {who}{truncate(extra, 300)}"


def _people(lead: Lead) -> str:
    # stored Slack IDs, never lead-provided text, so mentions are safe here
    people = f"*Owner*\n{mention(lead.owner_id)}"
    if lead.assignee_id:
        people += f" · suggested {mention(lead.assignee_id)}"
    if lead.submitted_by:
        people += f" · handed over by {mention(lead.submitted_by)}"
    return people


def details_modal(lead: Lead, events: list[LeadEvent], *, rule_name: str | None = None) -> View:
    blocks: list[Block] = [
        HeaderBlock(text=truncate(display_name(lead), 150)),
        SectionBlock(
            fields=[
                _field("Email", lead.email),
                _field("Phone", lead.phone),
                _field("Title", lead.title),
                _field("Company", lead.company),
                _field("Source / campaign", " / ".join(p for p in (lead.source, lead.campaign) if p) or None),
                _field("Score", lead.score),
                _field("Region / segment", " / ".join(p for p in (lead.region, lead.segment) if p) or None),
                _field("External ID", lead.external_id),
                _field("Status", Status(lead.status).label),
                MarkdownTextObject(text=_people(lead)),
            ]
        ),
    ]
    if lead.notes:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f"*Notes from marketing*\n{truncate(escape(lead.notes), 2900)}")
            )
        )
    if lead.fields:
        dumped = json.dumps(lead.fields, ensure_ascii=False, indent=1, default=str)
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f"*More fields*\n```{truncate(escape(dumped), 2800)}```")
            )
        )
    if lead.reject_reason or lead.verdict_comment or lead.quality:
        verdict = []
        if lead.quality:
            verdict.append(f"quality {lead.quality}/5")
        if lead.reject_reason:
            verdict.append(f"reason: {escape(reason_label(lead.reject_reason))}")
        if lead.verdict_comment:
            verdict.append(f"“{escape(lead.verdict_comment)}”")
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=truncate("*Sales' verdict* " + " · ".join(verdict), 2900))
            )
        )
    route = f"Routed by rule *{escape(rule_name)}*" if rule_name else "Routed by the default channel"
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=truncate(f"#{lead.id} · {route} · received {slack_date(lead.created_at)}", 2900)
                )
            ]
        )
    )
    blocks.append(DividerBlock())
    shown = events[-MAX_EVENTS:]
    title = "*History*" if len(shown) == len(events) else f"*History* (latest {len(shown)} of {len(events)})"
    lines = [title, *(_event_line(e) for e in shown)] if shown else [title, "—"]
    # several sections: one section holds at most 3,000 characters
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
            chunk = []
        chunk.append(truncate(line, 2900))
    if chunk:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
    return View(
        type="modal",
        callback_id=CallbackId.LEAD_DETAILS.value,
        title="Lead details",
        close="Close",
        blocks=blocks[:100],
    )
