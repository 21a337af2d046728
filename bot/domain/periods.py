"""Reporting periods (month, quarter) in the workspace's time zone, and how much of one has passed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"


def parse_period_kind(text: str | None) -> PeriodKind | None:
    """'month', 'monthly', 'm', 'quarter', 'q'... → PeriodKind; None when it is not a period word."""
    key = (text or "").strip().lower()
    if key in ("month", "monthly", "m", "mo"):
        return PeriodKind.MONTH
    if key in ("quarter", "quarterly", "q", "qtr"):
        return PeriodKind.QUARTER
    return None


@dataclass(frozen=True)
class Period:
    """[start, end) in local dates of `tz`; UTC bounds are what queries compare against."""

    kind: PeriodKind
    start: date
    end: date  # first day of the next period
    tz: ZoneInfo

    @property
    def start_utc(self) -> datetime:
        return _local_midnight(self.start, self.tz)

    @property
    def end_utc(self) -> datetime:
        return _local_midnight(self.end, self.tz)

    @property
    def label(self) -> str:
        if self.kind is PeriodKind.MONTH:
            return self.start.strftime("%B %Y")
        return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"

    def elapsed_fraction(self, now: datetime) -> float:
        """0.0 at the first instant of the period, 1.0 at (and after) its end."""
        total = (self.end_utc - self.start_utc).total_seconds()
        done = (now.astimezone(UTC) - self.start_utc).total_seconds()
        return min(1.0, max(0.0, done / total))

    def contains(self, when: datetime) -> bool:
        return self.start_utc <= when.astimezone(UTC) < self.end_utc

    def previous(self) -> Period:
        return period_containing(self.kind, self.start_utc - timedelta(seconds=1), self.tz)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    # midnight local time, as a UTC instant (DST-safe: zoneinfo resolves the offset for that date)
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def period_containing(kind: PeriodKind, when: datetime, tz: ZoneInfo) -> Period:
    local = when.astimezone(tz).date()
    if kind is PeriodKind.MONTH:
        start = date(local.year, local.month, 1)
        return Period(kind, start, _add_months(start, 1), tz)
    start = date(local.year, (local.month - 1) // 3 * 3 + 1, 1)
    return Period(kind, start, _add_months(start, 3), tz)


def period_starting(kind: PeriodKind, start: date, tz: ZoneInfo) -> Period:
    """The period whose first day is `start` (targets store it that way)."""
    return period_containing(kind, _local_midnight(start, tz), tz)


@dataclass(frozen=True)
class Window:
    """A plain [start, end) span in UTC, for rolling windows (last 7, 30, 90 days)."""

    start: datetime
    end: datetime

    @classmethod
    def last(cls, days: int, now: datetime) -> Window:
        return cls(now - timedelta(days=days), now)

    def before(self) -> Window:
        """The window of the same length just before this one (for week-over-week)."""
        return Window(self.start - (self.end - self.start), self.start)


def iso_week_slot(now: datetime, tz: ZoneInfo) -> str:
    """The local ISO week a time falls in, e.g. '2026-W10': a weekly job's once-per-slot key."""
    year, week, _ = now.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"
