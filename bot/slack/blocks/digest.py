"""The weekly digest message: headline numbers with week-over-week arrows, targets, sources, SLA."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.events import EventKind
from bot.domain.targets import format_duration, format_rate
from bot.domain.views import Digest
from bot.slack.blocks.targets import funnel_text, scoreboard_blocks
from bot.slack.mrkdwn import escape, truncate

MAX_BLOCKS = 50  # Slack's limit for a message

_BREACH_LABELS = {
    EventKind.SLA_REMINDER.value: "leads waited too long for a claim",
    EventKind.SLA_VERDICT_NUDGE.value: "verdicts came late",
    EventKind.SLA_STAGE_NUDGE.value: "leads sat too long in a stage",
}


def change(now: float | None, before: float | None, *, points: bool = False) -> str:
    """'(▲ +25%)' / '(▼ −10%)' / '(= same)' against last week; rates change in points."""
    if now is None or before is None:
        return "(no comparison)"
    if points:
        delta: float | None = (now - before) * 100
    else:
        delta = (now - before) / before * 100 if before else None
    if delta is None:
        return "(new)" if now else "(= same)"
    if abs(delta) < 0.5:
        return "(= same)"
    arrow = "▲" if delta > 0 else "▼"
    sign = "+" if delta > 0 else "−"
    return f"({arrow} {sign}{abs(delta):.0f}{' pts' if points else '%'})"


def week_lines(d: Digest) -> str:
    a, b = d.this_week, d.last_week
    rows = [
        ("Leads delivered", f"{a.delivered:,}", change(a.delivered, b.delivered)),
        ("Accepted", f"{a.accepted:,}", change(a.accepted, b.accepted)),
        (
            "Acceptance rate",
            format_rate(a.acceptance_rate),
            change(a.acceptance_rate, b.acceptance_rate, points=True),
        ),
        (
            "Median time to claim",
            format_duration(a.median_claim_seconds),
            change(a.median_claim_seconds, b.median_claim_seconds),
        ),
        ("Meetings booked", f"{a.meetings:,}", change(a.meetings, b.meetings)),
        ("Deals won", f"{a.won:,}", change(a.won, b.won)),
    ]
    if a.revenue or b.revenue:
        rows.append(("Revenue won", f"{a.revenue:,.0f}", change(a.revenue, b.revenue)))
    return "\n".join(f"• {label}: *{value}* {delta}" for label, value, delta in rows)


def sources_line(d: Digest) -> str:
    if d.best is None:
        return "Not enough verdicts this week to rank sources."
    best = f":star: Best: *{escape(d.best.source)}* — {format_rate(d.best.acceptance_rate)} accepted of {d.best.verdicts}"
    if d.worst is None:
        return best
    worst = f":construction: Needs work: *{escape(d.worst.source)}* — {format_rate(d.worst.acceptance_rate)} accepted of {d.worst.verdicts}"
    return f"{best}\n{worst}"


def sla_line(d: Digest) -> str:
    total, before = sum(d.breaches.values()), sum(d.breaches_before.values())
    if not total:
        return f":white_check_mark: No SLA breaches this week (last week: {before})."
    parts = [f"{n} {_BREACH_LABELS.get(kind, kind)}" for kind, n in sorted(d.breaches.items())]
    return f":hourglass: *{total} SLA breaches* this week (last week: {before}): " + "; ".join(parts) + "."


def digest_blocks(d: Digest) -> list[Block]:
    tz = d.scoreboard.month.tz  # the workspace's time zone: its dates, as its periods
    start, end = d.week.start.astimezone(tz), d.week.end.astimezone(tz)
    blocks: list[Block] = [
        HeaderBlock(text="Handoff weekly digest"),
        ContextBlock(
            elements=[
                MarkdownTextObject(text=f"The last 7 days against the 7 before · {start:%b %d} – {end:%b %d}")
            ]
        ),
        SectionBlock(text=MarkdownTextObject(text=f"*This week*\n{week_lines(d)}")),
        SectionBlock(text=MarkdownTextObject(text=f"*Sources*\n{sources_line(d)}")),
        SectionBlock(text=MarkdownTextObject(text=sla_line(d))),
        DividerBlock(),
    ]
    blocks += scoreboard_blocks(d.scoreboard, with_header=False)
    extra: list[Block] = []
    for title, text in d.extra:
        extra.append(DividerBlock())
        extra.append(SectionBlock(text=MarkdownTextObject(text=truncate(f"*{escape(title)}*\n{text}", 2900))))
    # other features' sections (e.g. the week's conversation) are few and short: a long list of
    # targets gives way to them rather than cutting them off at Slack's 50 blocks
    return blocks[: MAX_BLOCKS - len(extra)] + extra


def digest_text(d: Digest) -> str:
    a = d.this_week
    return (
        f"Handoff weekly digest: {a.delivered} leads delivered, {a.accepted} accepted, "
        f"{a.won} won this week. {funnel_text(d.scoreboard.funnel).splitlines()[0].replace('*', '')}"
    )
