"""The scoreboard: targets with progress bars and pace, and the funnel, as Block Kit models."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.numbers import SpanNumbers
from bot.domain.periods import PeriodKind
from bot.domain.speed import SpeedToLead, Spread
from bot.domain.targets import (
    CATALOGUE,
    Pace,
    format_duration,
    format_rate,
    format_value,
    progress_bar,
    ratio,
    scope_label,
)
from bot.domain.views import MANUAL_CHOICE, Scoreboard, TargetLine
from bot.ids import INPUT_ACTION, BlockId, CallbackId
from bot.slack.mrkdwn import escape, mention, truncate

SECTION_LIMIT = 2900  # Slack allows 3000 characters per section text; keep a margin
MAX_TARGET_SECTIONS = 20


def scope_text(scope: str) -> str:
    """mrkdwn for a target's scope: channel mentions are IDs we parsed; segments are escaped."""
    label = scope_label(scope)
    return label if scope.startswith("channel:") else escape(label)


def target_line(line: TargetLine) -> str:
    """One target in mrkdwn: bar, value vs target, percent, pace."""
    metric = line.metric
    value = format_value(metric, line.value, line.currency)
    target = format_value(metric, line.target, line.currency)
    percent = "" if line.percent is None else f" ({line.percent:.0f}%)"
    bar = progress_bar(line.percent, elapsed=line.elapsed if metric.cumulative else None)
    head = f"*{escape(metric.label)}* · {scope_text(line.scope)}"
    detail = f"`{bar}` {value} / {target}{percent} · {line.pace.emoji} {line.pace.value}"
    if metric.cumulative and line.pace is not Pace.NO_DATA and line.elapsed < 1:
        detail += f" — {format_value(metric, line.expected_now, line.currency)} expected by now"
    if metric.lower_is_better:
        detail += " — lower is better"
    if not metric.computed:
        detail += f" · reported by {mention(line.reported_by)}" if line.reported_by else " · not reported yet"
    return f"{head}\n{detail}"


def funnel_text(numbers: SpanNumbers) -> str:
    """delivered → accepted → meeting → won, each step's conversion from the one before."""
    steps = [
        ("Delivered", numbers.delivered, None),
        ("Accepted", numbers.accepted, ratio(numbers.accepted, numbers.delivered)),
        ("Meeting", numbers.meetings, ratio(numbers.meetings, numbers.accepted)),
        ("Won", numbers.won, ratio(numbers.won, numbers.meetings)),
    ]
    parts = []
    for label, count, conv in steps:
        parts.append(
            f"*{label}* {count:,}"
            + ("" if conv is None and label == "Delivered" else f" ({format_rate(conv)})")
        )
    text = " → ".join(parts)
    extras = [f"acceptance rate {format_rate(numbers.acceptance_rate)} of {numbers.verdicts:,} verdicts"]
    extras.append(f"median time to claim {format_duration(numbers.median_claim_seconds)}")
    if numbers.revenue_by_currency:
        money = " · ".join(
            f"{escape(c) + ' ' if c else ''}{v:,.0f}" for c, v in sorted(numbers.revenue_by_currency.items())
        )
        extras.append(f"revenue won {money}")
    return text + "\n" + " · ".join(extras)


def _chunks(lines: list[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Join lines into section texts under Slack's 3000-character limit."""
    out: list[str] = []
    current = ""
    for line in lines:
        line = truncate(line, limit)
        if current and len(current) + 2 + len(line) > limit:
            out.append(current)
            current = line
        else:
            current = f"{current}\n\n{line}" if current else line
    if current:
        out.append(current)
    return out


def scoreboard_blocks(board: Scoreboard, *, with_header: bool = True) -> list[Block]:
    """Targets grouped by period, then the month's funnel. Fits in one message (< 50 blocks)."""
    blocks: list[Block] = []
    if with_header:
        blocks.append(HeaderBlock(text=f"Shared targets · {board.month.label}"))
    month_pct = board.month.elapsed_fraction(board.now) * 100
    quarter_pct = board.quarter.elapsed_fraction(board.now) * 100
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{board.month.label}: {month_pct:.0f}% elapsed · "
                    f"{board.quarter.label}: {quarter_pct:.0f}% elapsed · `│` marks where we should be"
                )
            ]
        )
    )
    if not board.lines:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="No targets for this month or quarter yet. "
                    "Admins: `/targets set leads_delivered 200 month` (or `/targets set` for a form)."
                )
            )
        )
    sections = 0
    for kind, period in ((PeriodKind.MONTH, board.month), (PeriodKind.QUARTER, board.quarter)):
        lines = [target_line(line) for line in board.lines if line.period.kind is kind]
        if not lines:
            continue
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f":dart: *{period.label}*")))
        for chunk in _chunks(lines):
            if sections >= MAX_TARGET_SECTIONS:
                blocks.append(
                    ContextBlock(
                        elements=[
                            MarkdownTextObject(
                                text="More targets than fit here; export them with `handoff export targets`."
                            )
                        ]
                    )
                )
                break
            blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
            sections += 1
    blocks.append(DividerBlock())
    blocks.append(
        SectionBlock(
            text=MarkdownTextObject(
                text=f":bar_chart: *Funnel · {board.funnel_period.label} so far*\n{funnel_text(board.funnel)}"
            )
        )
    )
    if board.speed is not None and board.speed.leads:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f":stopwatch: *Speed to lead · last 7 days*\n{speed_text(board.speed)}"
                )
            )
        )
    return blocks


def speed_text(speed: SpeedToLead) -> str:
    """p50 / p90 of each wait, and the share claimed within the speed-to-lead window."""

    def pair(s: Spread) -> str:
        if s.p50 is None or s.p90 is None:
            return "—"
        return f"{format_duration(s.p50)} / {format_duration(s.p90)}"

    within = int(speed.within.total_seconds() // 60)
    share = format_rate(speed.claimed_within)
    return (
        f"arrival → visible {pair(speed.to_visible)} · visible → claimed {pair(speed.to_claim)} · "
        f"claimed → contacted {pair(speed.to_contact)} (p50 / p90) · "
        f"{share} claimed within {within} {'working ' if speed.working else ''}min · {speed.leads:,} leads"
    )


def scoreboard_text(board: Scoreboard) -> str:
    """The notification fallback: the headline numbers in plain words."""
    behind = sum(1 for line in board.lines if line.pace is Pace.BEHIND)
    f = board.funnel
    return (
        f"Shared targets for {board.month.label}: {len(board.lines)} targets, {behind} behind. "
        f"Delivered {f.delivered}, accepted {f.accepted}, meetings {f.meetings}, won {f.won}."
    )


PERIOD_OPTIONS = (
    ("month", "This month"),
    ("quarter", "This quarter"),
    ("next-month", "Next month"),
    ("next-quarter", "Next quarter"),
)


def target_modal() -> View:
    """The form behind `/targets set` with no arguments (admins only)."""
    metric_options = [Option(value=m.key, label=truncate(m.label, 75)) for m in CATALOGUE.values()]
    metric_options.append(Option(value=MANUAL_CHOICE, label="Another metric, reported by hand"))
    period_options = [Option(value=v, label=label) for v, label in PERIOD_OPTIONS]
    return View(
        type="modal",
        callback_id=CallbackId.TARGET_SET.value,
        title="Set a target",
        submit="Save",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id=BlockId.METRIC.value,
                label="Metric",
                element=StaticSelectElement(action_id=INPUT_ACTION, options=metric_options),
            ),
            InputBlock(
                block_id=BlockId.MANUAL_METRIC.value,
                label="Name of the metric reported by hand",
                optional=True,
                hint="Only for “Another metric”, e.g. demo_calls. Report it with /targets report.",
                element=PlainTextInputElement(action_id=INPUT_ACTION, max_length=32),
            ),
            InputBlock(
                block_id=BlockId.TARGET_VALUE.value,
                label="Target",
                hint="A number; 45% for rates; 30m or 2h for time to claim.",
                element=PlainTextInputElement(action_id=INPUT_ACTION, max_length=20),
            ),
            InputBlock(
                block_id=BlockId.PERIOD.value,
                label="Period",
                element=StaticSelectElement(
                    action_id=INPUT_ACTION, options=period_options, initial_option=period_options[0]
                ),
            ),
            InputBlock(
                block_id=BlockId.SEGMENT.value,
                label="Segment",
                optional=True,
                hint="Leave empty for the whole team.",
                element=PlainTextInputElement(action_id=INPUT_ACTION, max_length=100),
            ),
        ],
    )


def target_saved_view(text: str) -> View:
    """Replaces the form after a save, so the admin sees what was stored."""
    return View(
        type="modal",
        callback_id=CallbackId.TARGET_SET.value,
        title="Target saved",
        close="Done",
        blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT)))],
    )
