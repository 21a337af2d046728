"""Shared targets: the metric catalogue, pace against elapsed time, and text progress bars.

Pure logic: the numbers come from bot/storage/reports.py, the wording from bot/messages.py.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.errors import InvalidInput
from bot.domain.periods import Period, PeriodKind, period_containing, period_starting


class MetricKind(StrEnum):
    COUNT = "count"  # accumulates over the period: pace scales the target by elapsed time
    RATE = "rate"  # a share (0..1): compared with the target as is
    DURATION = "duration"  # seconds, lower is better: compared with the target as is
    MONEY = "money"  # accumulates like a count
    MANUAL = "manual"  # reported by hand (`/targets report`), accumulates like a count


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: MetricKind
    help: str

    @property
    def computed(self) -> bool:
        return self.kind is not MetricKind.MANUAL

    @property
    def cumulative(self) -> bool:
        return self.kind in (MetricKind.COUNT, MetricKind.MONEY, MetricKind.MANUAL)

    @property
    def lower_is_better(self) -> bool:
        return self.kind is MetricKind.DURATION


LEADS_DELIVERED = "leads_delivered"
LEADS_ACCEPTED = "leads_accepted"
ACCEPTANCE_RATE = "acceptance_rate"
MEDIAN_TIME_TO_CLAIM = "median_time_to_claim"
MEETINGS_BOOKED = "meetings_booked"
DEALS_WON = "deals_won"
REVENUE_WON = "revenue_won"
SPEED_TO_LEAD = "speed_to_lead"
REFERRALS = "referrals"
REFERRAL_WIN_RATE = "referral_win_rate"

CATALOGUE: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric(LEADS_DELIVERED, "Leads delivered (MQL)", MetricKind.COUNT, "leads handed to sales"),
        Metric(LEADS_ACCEPTED, "Leads accepted (SQL)", MetricKind.COUNT, "leads sales accepted"),
        Metric(ACCEPTANCE_RATE, "Acceptance rate", MetricKind.RATE, "accepted ÷ verdicts given, in %"),
        Metric(
            MEDIAN_TIME_TO_CLAIM,
            "Median time to claim",
            MetricKind.DURATION,
            "from delivery to claim, in minutes",
        ),
        Metric(MEETINGS_BOOKED, "Meetings booked", MetricKind.COUNT, "leads that reached a meeting"),
        Metric(DEALS_WON, "Deals won", MetricKind.COUNT, "leads closed as won"),
        Metric(REVENUE_WON, "Revenue won", MetricKind.MONEY, "sum of won amounts"),
        Metric(
            SPEED_TO_LEAD,
            "Speed to lead",
            MetricKind.RATE,
            "share of leads claimed within 5 working minutes of reaching sales, in %",
        ),
        Metric(REFERRALS, "Referrals", MetricKind.COUNT, "leads customers referred"),
        Metric(REFERRAL_WIN_RATE, "Referral win rate", MetricKind.RATE, "won ÷ closed referrals, in %"),
    )
}

_ALIASES = {
    "mql": LEADS_DELIVERED,
    "mqls": LEADS_DELIVERED,
    "delivered": LEADS_DELIVERED,
    "leads": LEADS_DELIVERED,
    "sql": LEADS_ACCEPTED,
    "sqls": LEADS_ACCEPTED,
    "accepted": LEADS_ACCEPTED,
    "acceptance": ACCEPTANCE_RATE,
    "time_to_claim": MEDIAN_TIME_TO_CLAIM,
    "ttc": MEDIAN_TIME_TO_CLAIM,
    "meetings": MEETINGS_BOOKED,
    "won": DEALS_WON,
    "deals": DEALS_WON,
    "revenue": REVENUE_WON,
    "speed": SPEED_TO_LEAD,
}
MANUAL_NAME = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


def metric_key(text: str) -> str:
    """Normalise what a person typed ('Deals-Won', 'SQLs') to a metric key."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    return _ALIASES.get(key, key)


def resolve_metric(text: str, *, allow_manual: bool) -> Metric:
    """The catalogue metric, or a manual one named `text`; InvalidInput for anything else."""
    key = metric_key(text)
    if key in CATALOGUE:
        return CATALOGUE[key]
    close = difflib.get_close_matches(key, [*CATALOGUE, *_ALIASES], n=1, cutoff=0.8)
    if close:
        # a typo of a computed metric must not quietly become a manual one
        suggestion = _ALIASES.get(close[0], close[0])
        raise InvalidInput({"metric": f"unknown metric `{text[:40]}`; did you mean `{suggestion}`?"})
    if allow_manual and MANUAL_NAME.match(key):
        return manual_metric(key)
    known = ", ".join(CATALOGUE)
    raise InvalidInput({"metric": f"unknown metric `{text[:40]}`; known metrics: {known}"})


def manual_metric(key: str) -> Metric:
    return Metric(key, key.replace("_", " ").capitalize(), MetricKind.MANUAL, "reported by hand")


def metric_for(key: str) -> Metric:
    """A stored target's metric: catalogue or manual."""
    return CATALOGUE.get(key) or manual_metric(key)


def parse_value(metric: Metric, text: str) -> float:
    """What a target's value means per kind: '45%' or '45' for rates, '30m'/'2h' for durations."""
    raw = text.strip().lower().replace(",", "").replace("_", "")
    unit = 1.0
    if metric.kind is MetricKind.RATE:
        raw = raw.removesuffix("%")
        try:
            number = float(raw)
        except ValueError:
            raise InvalidInput({"value": f"`{text[:20]}` is not a percentage such as 45%"}) from None
        value = number / 100 if number > 1 else number
        if not 0 <= value <= 1:
            raise InvalidInput({"value": "a rate must be between 0% and 100%"})
        return value
    if metric.kind is MetricKind.DURATION:
        for suffix, seconds in (("min", 60), ("m", 60), ("h", 3600), ("d", 86400)):
            if raw.endswith(suffix):
                raw, unit = raw[: -len(suffix)], float(seconds)
                break
        else:
            unit = 60.0  # a bare number is minutes
    else:
        for prefix in ("$", "€", "£"):
            raw = raw.removeprefix(prefix)
        if raw.endswith("k"):
            raw, unit = raw[:-1], 1000.0
    try:
        number = float(raw) * unit
    except ValueError:
        raise InvalidInput({"value": f"`{text[:20]}` is not a number"}) from None
    if number != number or number in (float("inf"), float("-inf")):  # NaN / infinity
        raise InvalidInput({"value": f"`{text[:20]}` is not a number"})
    if number < 0:
        raise InvalidInput({"value": "a target cannot be negative"})
    if number > 1e12:
        raise InvalidInput({"value": "that number is too large"})
    return number


class Pace(StrEnum):
    AHEAD = "ahead"
    ON_TRACK = "on track"
    BEHIND = "behind"
    NO_DATA = "no data"

    @property
    def emoji(self) -> str:
        return {
            Pace.AHEAD: ":rocket:",
            Pace.ON_TRACK: ":white_check_mark:",
            Pace.BEHIND: ":warning:",
            Pace.NO_DATA: ":grey_question:",
        }[self]


# Within ±10% of where we should be counts as on track: small teams have lumpy weeks.
TOLERANCE = 0.10


def pace(metric: Metric, value: float | None, target: float, elapsed: float) -> Pace:
    """Cumulative metrics are judged against target × elapsed fraction; rates and durations
    against the target itself (a rate halfway through the month is already a rate)."""
    if value is None:
        return Pace.NO_DATA
    if metric.lower_is_better:
        if target <= 0:
            return Pace.ON_TRACK if value <= 0 else Pace.BEHIND
        ratio = value / target
        if ratio <= 1 - TOLERANCE:
            return Pace.AHEAD
        return Pace.ON_TRACK if ratio <= 1 + TOLERANCE else Pace.BEHIND
    expected = target * (elapsed if metric.cumulative else 1.0)
    if target > 0 and value >= target:
        return Pace.AHEAD if metric.cumulative and elapsed < 1 else Pace.ON_TRACK
    if expected <= 0:
        return Pace.ON_TRACK
    ratio = value / expected
    if ratio > 1 + TOLERANCE:
        return Pace.AHEAD
    return Pace.ON_TRACK if ratio >= 1 - TOLERANCE else Pace.BEHIND


def shortfall(metric: Metric, value: float | None, target: float, elapsed: float) -> float:
    """How far short of pace, from 0 (on pace or better) to 1 (nothing yet): the gap between where
    the metric is and where `pace` expects it, as a share of the expectation."""
    if value is None:
        return 0.0
    if metric.lower_is_better:
        return max(0.0, 1 - target / value) if value > 0 and target > 0 else 0.0
    expected = target * (elapsed if metric.cumulative else 1.0)
    if expected <= 0:
        return 0.0
    return min(1.0, max(0.0, 1 - value / expected))


def percent_of_target(metric: Metric, value: float | None, target: float) -> float | None:
    """How far along we are, in % (for lower-is-better: target ÷ value, so 100% means met)."""
    if value is None:
        return None
    if metric.lower_is_better:
        if value <= 0:
            return 100.0
        return min(100.0, target / value * 100) if target > 0 else 0.0
    if target <= 0:
        return 100.0
    return value / target * 100


def progress_bar(percent: float | None, *, width: int = 10, elapsed: float | None = None) -> str:
    """`▓▓▓▓▓░░░░░` filled to percent; a `│` marks where the period's elapsed time is."""
    filled = 0 if percent is None else round(min(100.0, max(0.0, percent)) / 100 * width)
    cells = ["▓"] * filled + ["░"] * (width - filled)
    if elapsed is not None:
        mark = min(width, max(0, round(elapsed * width)))
        cells.insert(mark, "│")
    return "".join(cells)


def format_value(metric: Metric, value: float | None, currency: str | None = None) -> str:
    if value is None:
        return "—"
    if metric.kind is MetricKind.RATE:
        return f"{value * 100:.0f}%"
    if metric.kind is MetricKind.DURATION:
        return format_duration(value)
    if metric.kind is MetricKind.MONEY:
        prefix = f"{currency} " if currency else ""
        return f"{prefix}{value:,.0f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes = seconds / 60
    if minutes < 60:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def format_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


# -- `/targets set` and `/targets report` arguments ------------------------------------------

_CHANNEL_REF = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
_MONTH_REF = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER_REF = re.compile(r"^(\d{4})-?q([1-4])$")


@dataclass(frozen=True)
class PeriodRef:
    """Which period a person meant: the current one, the next one, or a named month/quarter."""

    kind: str  # "month" | "quarter"
    offset: int = 0  # 0 = current, 1 = next (ignored when year is set)
    year: int | None = None
    number: int | None = None  # month 1-12 or quarter 1-4


def parse_period_ref(text: str) -> PeriodRef | None:
    key = text.strip().lower()
    for kind in ("month", "quarter"):
        if key in (kind, f"this-{kind}", f"this_{kind}", f"{kind}ly"):
            return PeriodRef(kind)
        if key in (f"next-{kind}", f"next_{kind}"):
            return PeriodRef(kind, offset=1)
    if m := _MONTH_REF.match(key):
        if 1 <= int(m.group(2)) <= 12:
            return PeriodRef("month", year=int(m.group(1)), number=int(m.group(2)))
    if m := _QUARTER_REF.match(key):
        return PeriodRef("quarter", year=int(m.group(1)), number=int(m.group(2)))
    return None


def parse_scope(text: str | None) -> str:
    """'' for the whole team, 'channel:C123' for a channel mention, else a lowercased segment."""
    words = (text or "").strip()
    if not words or words.lower() in ("team", "all", "everyone", "whole-team"):
        return ""
    if m := _CHANNEL_REF.match(words):
        return f"channel:{m.group(1)}"
    if words.startswith("#"):
        raise InvalidInput(
            {"segment": "pick the channel so Slack links it (type # and choose it from the list)"}
        )
    segment = words.lower()
    if len(segment) > 100:
        raise InvalidInput({"segment": "must be at most 100 characters"})
    return segment


def scope_label(stored: str) -> str:
    if not stored:
        return "whole team"
    if stored.startswith("channel:"):
        return f"<#{stored.removeprefix('channel:')}>"
    return f"segment {stored}"


@dataclass(frozen=True)
class SetTarget:
    metric: Metric
    value: float
    period: PeriodRef
    scope: str


def parse_set_args(args: str) -> SetTarget:
    """`<metric> <value> [month|quarter|next-month|2026-04|2026-Q2] [segment or #channel]`."""
    words = args.split()
    if len(words) < 2:
        raise InvalidInput(
            {
                "usage": "`/targets set <metric> <value> [month|quarter] [segment]`, e.g. "
                "`/targets set leads_delivered 400 month`"
            }
        )
    metric = resolve_metric(words[0], allow_manual=True)
    value = parse_value(metric, words[1])
    rest = words[2:]
    period = PeriodRef("month")
    if rest and (ref := parse_period_ref(rest[0])) is not None:
        period, rest = ref, rest[1:]
    return SetTarget(metric=metric, value=value, period=period, scope=parse_scope(" ".join(rest)))


@dataclass(frozen=True)
class ReportValue:
    metric_key: str
    value: float
    relative: bool  # "+3": add to the period's current total
    scope: str


def parse_report_args(args: str) -> ReportValue:
    """`<metric> <value|+n> [segment]` for a manual metric."""
    words = args.split()
    if len(words) < 2:
        raise InvalidInput(
            {"usage": "`/targets report <metric> <value>` (the period's total so far), or `+n` to add"}
        )
    metric = resolve_metric(words[0], allow_manual=True)
    if metric.computed:
        raise InvalidInput(
            {"metric": f"{metric.label} is computed from the leads themselves; it can't be reported by hand"}
        )
    raw = words[1]
    relative = raw.startswith("+")
    value = parse_value(metric, raw.lstrip("+"))
    return ReportValue(metric.key, value, relative, parse_scope(" ".join(words[2:])))


def resolve_period(ref: PeriodRef, now: datetime, tz: ZoneInfo) -> Period:
    kind = PeriodKind(ref.kind)
    if ref.year is not None and ref.number is not None:
        month = ref.number if kind is PeriodKind.MONTH else (ref.number - 1) * 3 + 1
        return period_starting(kind, date(ref.year, month, 1), tz)
    period = period_containing(kind, now, tz)
    for _ in range(ref.offset):
        period = period_starting(kind, period.end, tz)
    return period
