"""The App Home tab as Block Kit models; never more than Slack's 100 blocks."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.lead import Status
from bot.domain.numbers import QualityRow
from bot.domain.reasons import reason_label
from bot.domain.targets import format_rate
from bot.domain.views import HomeData
from bot.ids import ActionId
from bot.slack.blocks.lead_card import display_name
from bot.slack.blocks.lead_lists import clock_text
from bot.slack.blocks.retention import retention_blocks
from bot.slack.blocks.settings import admin_entry
from bot.slack.blocks.targets import SECTION_LIMIT, _chunks, scoreboard_blocks
from bot.slack.mrkdwn import escape, truncate

MAX_BLOCKS = 100  # Slack's limit for a Home view
MAX_QUALITY_ROWS = 10


def _lead_section(data: HomeData, index: int) -> SectionBlock:
    row = data.open_leads[index]
    lead = row.lead
    # the same next action and SLA clock as `/lead mine` (bot/services/sla.py decides both)
    text = (
        f"*{escape(truncate(display_name(lead), 150))}* · #{lead.id} · {Status(lead.status).label}\n"
        f":point_right: Next: *{row.next_action or '—'}*"
    )
    clock = clock_text(row.clock)
    if clock:
        text += f" · {clock}"
    if lead.source:
        text += f" · {escape(lead.source)}"
    return SectionBlock(text=MarkdownTextObject(text=text))


def _pager(data: HomeData) -> list[Block]:
    if data.pages <= 1:
        return []
    blocks: list[Block] = []
    label = f"Page {data.page + 1} of {data.pages} · {data.open_total} open leads"
    if data.page + 1 < data.pages:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=label),
                accessory=ButtonElement(
                    text="Next page", action_id=ActionId.HOME_PAGE.value, value=str(data.page + 1)
                ),
            )
        )
        label = " "
    if data.page > 0:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=label),
                accessory=ButtonElement(
                    text="Previous page", action_id=ActionId.HOME_PAGE.value, value=str(data.page - 1)
                ),
            )
        )
    return blocks


def rep_blocks(data: HomeData) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text="My open leads")]
    if not data.open_leads:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No open leads. Nice and tidy.")))
        return blocks
    blocks += [_lead_section(data, i) for i in range(len(data.open_leads))]
    blocks += _pager(data)
    return blocks


def quality_line(row: QualityRow, labels: dict[str, str] | None = None) -> str:
    name = escape(row.source) + (f" / {escape(row.campaign)}" if row.campaign else "")
    rating = f"{row.average_rating:.1f}/5" if row.average_rating is not None else "—"
    text = (
        f"*{name}* — {row.delivered} leads · accepted {format_rate(row.acceptance_rate)}"
        f" of {row.verdicts} verdicts · rating {rating} · win rate {format_rate(row.win_rate)}"
    )
    top = row.top_reasons(3)
    if top:
        text += "\n    rejected for: " + ", ".join(f"{escape(reason_label(r, labels))} ({n})" for r, n in top)
    return text


def _rows_text(rows: list[QualityRow], what: str, reasons: dict[str, str]) -> list[str]:
    lines = [quality_line(r, reasons) for r in rows[:MAX_QUALITY_ROWS]]
    if len(rows) > MAX_QUALITY_ROWS:
        lines.append(f"_…and {len(rows) - MAX_QUALITY_ROWS} more {what}, with fewer leads_")
    return lines


def marketing_blocks(data: HomeData) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text="Lead quality")]
    report = data.quality
    if report is None:
        return []
    for days in sorted(report.by_source):
        total = report.totals[days]
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f":mag: *Last {days} days* · {total.delivered} leads · accepted "
                    f"{format_rate(total.acceptance_rate)} · win rate {format_rate(total.win_rate)}"
                )
            )
        )
        if not report.by_source[days]:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text="No leads in this window.")]))
            continue
        lines = ["*By source*", *_rows_text(report.by_source[days], "sources", data.reasons)]
        if report.by_campaign[days]:
            lines += ["*By campaign*", *_rows_text(report.by_campaign[days], "campaigns", data.reasons)]
        blocks += [SectionBlock(text=MarkdownTextObject(text=c)) for c in _chunks(lines, SECTION_LIMIT)]
    return blocks


def fit(blocks: list[Block], limit: int = MAX_BLOCKS) -> list[Block]:
    """Cut to Slack's limit, saying so (the last block tells the reader something is missing)."""
    if len(blocks) <= limit:
        return blocks
    note = ContextBlock(
        elements=[
            MarkdownTextObject(text=f"_{len(blocks) - limit + 1} more sections did not fit on this page._")
        ]
    )
    return [*blocks[: limit - 1], note]


def home_view(data: HomeData) -> View:
    blocks: list[Block] = [admin_entry(), DividerBlock()] if data.is_admin else []
    if data.show_rep:
        blocks += rep_blocks(data)
        blocks.append(DividerBlock())
    if data.show_marketing:
        blocks += marketing_blocks(data)
        blocks.append(DividerBlock())
    blocks += scoreboard_blocks(data.scoreboard)
    blocks += retention_blocks(data.retention, data.customers, mine=not data.show_marketing)
    return View(type="home", blocks=fit(blocks))
