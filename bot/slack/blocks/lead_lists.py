"""Pure builders for lead lists shown to one person: `/lead mine`, `/lead find`, `/lead nurture`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.lead import Status
from bot.domain.sla import SlaClock, human_duration
from bot.slack.blocks.lead_card import display_name, slack_date
from bot.slack.mrkdwn import escape, mention, truncate

MAX_ROWS = 40  # leaves room under Slack's 50 blocks for the header and the "more" line


def _name(lead: Any) -> str:
    return f"#{lead.id} *{escape(display_name(lead))}*"


def clock_text(clock: SlaClock | None) -> str:
    if clock is None:
        return ""
    if clock.overdue:
        return f":red_circle: overdue by {human_duration(clock.late_by)} (working time)"
    return f":stopwatch: due {slack_date(clock.deadline)} · {human_duration(clock.remaining)} of working time left"


def _list(title: str, rows: list[str], total: int, fallback: str) -> tuple[str, list[Block]]:
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=title))]
    blocks.extend(SectionBlock(text=MarkdownTextObject(text=truncate(r, 2900))) for r in rows[:MAX_ROWS])
    shown = min(len(rows), MAX_ROWS)
    if total > shown:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {total - shown} more.")]))
    return fallback, blocks


def mine_message(rows: Sequence[Any]) -> tuple[str, list[Block]]:
    """rows: OpenLead(lead, next_action, clock), most urgent first."""
    lines = []
    for row in rows:
        lead = row.lead
        line = f"{_name(lead)} · {Status(lead.status).label}"
        if row.next_action:
            line += f"\nNext: {row.next_action}"
        clock = clock_text(row.clock)
        if clock:
            line += f"\n{clock}"
        lines.append(line)
    title = f"*Your open leads ({len(rows)})*"
    return _list(title, lines, len(rows), f"You have {len(rows)} open leads.")


def find_message(query: str, leads: Sequence[Any]) -> tuple[str, list[Block]]:
    lines = []
    for lead in leads:
        owner = f" · owner {mention(lead.owner_id)}" if lead.owner_id else ""
        lines.append(
            f"{_name(lead)} · {escape(lead.email)}\n{Status(lead.status).label}{owner} · received {slack_date(lead.created_at)}"
        )
    title = f"*Leads matching “{escape(truncate(query, 100))}”* ({len(leads)})"
    return _list(title, lines, len(leads), f"{len(leads)} leads match.")


def nurture_message(leads: Sequence[Any], total: int) -> tuple[str, list[Block]]:
    lines = []
    for lead in leads:
        line = f"{_name(lead)} · {escape(lead.email)}\nNot ready, said {mention(lead.owner_id)} on {slack_date(lead.rejected_at)}"
        if lead.quality:
            line += f" · quality {lead.quality}/5"
        if lead.verdict_comment:
            line += f"\n> {escape(truncate(lead.verdict_comment, 500))}"
        lines.append(line)
    title = f"*:seedling: Leads to nurture ({total})* — sales said they are not ready yet"
    return _list(title, lines, total, f"{total} leads to nurture.")
