"""SLA clock math, pure: business hours and holidays in the workspace's time zone, working-time
arithmetic, per-rule thresholds over workspace defaults, and what is due for a lead now.

Every SLA threshold counts *working* time: a lead that arrives Friday 16:50 with a 30-minute
reminder threshold (09:00-17:00, mon-fri) is due Monday 09:20. Instants are aware datetimes; the
calendar works on local dates and wall-clock windows, converted to UTC per day, so a DST change
never adds or loses an hour of working time that did not happen.
"""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.domain.lead import ACCEPTED_LIKE, Status

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# a search bound: a calendar with no working day at all would otherwise loop forever
MAX_DAYS_AHEAD = 3 * 366
LONG_SPAN = timedelta(days=8)  # longer spans: working time from running totals, not day by day


class CalendarError(ValueError):
    """A business-hours, business-days or holidays setting that cannot be understood."""


# -- parsing what admins type ---------------------------------------------------------------


def parse_hours(text: str) -> tuple[time, time | None]:
    """ "09:00-17:00" → (09:00, 17:00); an end of "24:00" is returned as None (end of day)."""
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text or "")
    if not m:
        raise CalendarError(f"business hours must look like 09:00-17:00, not {text!r}")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise CalendarError(f"business hours {text!r} are not valid times")
    start = time(h1, m1)
    end = None if h2 == 24 else time(h2, m2)
    if end is not None and end <= start:
        raise CalendarError(f"business hours {text!r} must end after they start (same day)")
    return start, end


def parse_days(text: str) -> frozenset[int]:
    """ "mon-fri" or "mon,tue,thu" or "sun-thu" → weekday numbers (Monday = 0)."""
    days: set[int] = set()
    for part in (p.strip().lower() for p in (text or "").split(",")):
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            a = DAY_NAMES.index(first.strip()[:3])
            b = DAY_NAMES.index(last.strip()[:3]) if last else a
        except ValueError:
            raise CalendarError(f"business days must look like mon-fri, not {text!r}") from None
        step = a
        while True:
            days.add(step)
            if step == b:
                break
            step = (step + 1) % 7  # "sun-thu" wraps around the week
    if not days:
        raise CalendarError("at least one business day is needed")
    return frozenset(days)


def parse_holidays(value: str | Sequence[str | date] | None) -> frozenset[date]:
    """ "2026-12-25,2026-12-26" (or a list of ISO dates) → dates."""
    if value is None:
        return frozenset()
    parts = value.split(",") if isinstance(value, str) else list(value)
    out: set[date] = set()
    for part in (str(p).strip() for p in parts):
        if not part:
            continue
        try:
            out.add(date.fromisoformat(part))
        except ValueError:
            raise CalendarError(f"holiday {part!r} is not a date like 2026-12-25") from None
    return frozenset(out)


# -- the calendar ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BusinessCalendar:
    tz: ZoneInfo
    start: time = time(9, 0)
    end: time | None = time(17, 0)  # None: midnight at the end of the day
    days: frozenset[int] = frozenset(range(5))
    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_text(
        cls, *, timezone: str, hours: str, days: str, holidays: str | Sequence[str | date] | None
    ) -> BusinessCalendar:
        start, end = parse_hours(hours)
        return cls(
            tz=ZoneInfo(timezone),
            start=start,
            end=end,
            days=parse_days(days),
            holidays=parse_holidays(holidays),
        )

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    @property
    def day_length(self) -> timedelta:
        """Nominal working time in one day (wall clock), e.g. 8 h for 09:00-17:00."""
        end = (
            timedelta(hours=24)
            if self.end is None
            else timedelta(hours=self.end.hour, minutes=self.end.minute)
        )
        return end - timedelta(hours=self.start.hour, minutes=self.start.minute)

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The working window of a local date, as UTC instants (DST-aware)."""
        opens = datetime.combine(day, self.start, tzinfo=self.tz)
        if self.end is None:
            closes = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
        else:
            closes = datetime.combine(day, self.end, tzinfo=self.tz)
        return opens.astimezone(UTC), closes.astimezone(UTC)

    def _days_from(self, when: datetime) -> Iterator[date]:
        day = when.astimezone(self.tz).date()
        for _ in range(MAX_DAYS_AHEAD):
            if self.is_working_day(day):
                yield day
            day += timedelta(days=1)

    def add_working(self, start: datetime, amount: timedelta) -> datetime:
        """The instant `amount` of working time after `start`."""
        if amount <= timedelta(0):
            return start
        remaining = amount
        for day in self._days_from(start):
            opens, closes = self.window(day)
            begin = max(opens, start)
            if begin >= closes:
                continue
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise CalendarError("no working time in the next three years (check business days and holidays)")

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time elapsed from `start` to `end` (zero when end is not after start)."""
        if end - start <= LONG_SPAN:
            return self._working_day_by_day(start, end)
        # a long span (a quarter's speed-to-lead target counts each unclaimed lead's wait up to
        # now, for every lead of the quarter): the whole days in between from running totals,
        # so the cost no longer grows with the days spanned
        first, last = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        totals = _running_totals(self)
        total = self._within_day(first, start, end) - totals.before(first + timedelta(days=1))
        if (last - first).days >= MAX_DAYS_AHEAD:  # as far as day by day looks, and no further
            return total + totals.before(first + timedelta(days=MAX_DAYS_AHEAD))
        return total + totals.before(last) + self._within_day(last, start, end)

    def _within_day(self, day: date, start: datetime, end: datetime) -> timedelta:
        if not self.is_working_day(day):
            return timedelta(0)
        opens, closes = self.window(day)
        lo, hi = max(opens, start), min(closes, end)
        return hi - lo if hi > lo else timedelta(0)

    def _working_day_by_day(self, start: datetime, end: datetime) -> timedelta:
        total = timedelta(0)
        if end <= start:
            return total
        for day in self._days_from(start):
            opens, closes = self.window(day)
            if opens >= end:
                break
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += hi - lo
        return total

    def is_open(self, when: datetime) -> bool:
        day = when.astimezone(self.tz).date()
        if not self.is_working_day(day):
            return False
        opens, closes = self.window(day)
        return opens <= when < closes


class _RunningTotals:
    """Working time of a calendar's whole days, summed from a first day: the working time of the
    days from `a` up to (not including) `b` is before(b) - before(a). Grown as dates are asked."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self.first: date | None = None
        self.sums: list[timedelta] = [timedelta(0)]  # sums[i]: the days first .. first + i - 1

    def _work(self, day: date) -> timedelta:
        if not self.calendar.is_working_day(day):
            return timedelta(0)
        opens, closes = self.calendar.window(day)  # in UTC: a DST change in the hours counts
        return closes - opens

    def before(self, day: date) -> timedelta:
        if self.first is None or day < self.first:
            # start again a week before (spans keep coming from around the same dates), as far
            # as the totals reached
            reached = day if self.first is None else self.first + timedelta(days=len(self.sums) - 1)
            self.first, self.sums = day - timedelta(days=7), [timedelta(0)]
            self._grow((reached - self.first).days)
        index = (day - self.first).days
        self._grow(index)
        return self.sums[index]

    def _grow(self, index: int) -> None:
        assert self.first is not None
        while len(self.sums) <= index:
            self.sums.append(self.sums[-1] + self._work(self.first + timedelta(days=len(self.sums) - 1)))


@functools.lru_cache(maxsize=32)
def _running_totals(calendar: BusinessCalendar) -> _RunningTotals:
    # one per calendar (a frozen value): the digest's 100k leads share their calendar's totals
    return _RunningTotals(calendar)


# -- thresholds -----------------------------------------------------------------------------


class Escalation(StrEnum):
    MANAGER = "manager"  # DM the rule's manager (admins when the rule has none)
    REASSIGN = "reassign"  # hand the suggestion to the next on-duty rep by round robin


@dataclass(frozen=True)
class Thresholds:
    remind: timedelta  # unclaimed → reminder in the card's thread
    escalate: timedelta  # unclaimed → escalation
    verdict: timedelta  # claimed, no verdict → DM to the owner
    stage_days: int  # accepted, no stage change for this many working days → DM nudge
    escalation: Escalation = Escalation.MANAGER

    @classmethod
    def of(
        cls,
        defaults: Thresholds,
        *,
        remind_minutes: int | None = None,
        escalate_minutes: int | None = None,
        verdict_hours: int | None = None,
        stage_days: int | None = None,
        escalation: str | None = None,
    ) -> Thresholds:
        """A routing rule's own values where it has them, the workspace defaults elsewhere."""
        try:
            mode = Escalation(escalation) if escalation else defaults.escalation
        except ValueError:
            mode = defaults.escalation
        return cls(
            remind=timedelta(minutes=remind_minutes) if remind_minutes is not None else defaults.remind,
            escalate=(
                timedelta(minutes=escalate_minutes) if escalate_minutes is not None else defaults.escalate
            ),
            verdict=timedelta(hours=verdict_hours) if verdict_hours is not None else defaults.verdict,
            stage_days=stage_days if stage_days is not None else defaults.stage_days,
            escalation=mode,
        )

    @property
    def shortest_unclaimed(self) -> timedelta:
        return min(self.remind, self.escalate)


# -- what is due ----------------------------------------------------------------------------


class Step(StrEnum):
    """One SLA reminder; the value is the job/slot name used to fire it once."""

    REMIND = "sla_reminder"
    ESCALATE = "sla_escalation"
    VERDICT = "sla_verdict"
    STAGE = "sla_stage"


class LeadClock(Protocol):
    """The lead fields the SLA clock reads (the ORM Lead has them)."""

    status: str
    created_at: datetime
    claimed_at: datetime | None
    accepted_at: datetime | None
    stage_changed_at: datetime | None


def visible_at(lead: LeadClock) -> datetime | None:
    """When sales could first see the lead (its card, its line in a bulk thread, its DM went out);
    None while it has not. A lead that does not track it counts as visible when it arrived."""
    return typing.cast(datetime | None, getattr(lead, "posted_at", lead.created_at))


def anchor(lead: LeadClock) -> datetime | None:
    """When the lead's current SLA clock started: when sales could first see it (or its release)
    for new leads, the claim for claimed ones, the last stage change after acceptance. None: no
    clock runs (a new lead whose card has not gone out yet)."""
    status = Status(lead.status)
    if status is Status.NEW:
        seen = visible_at(lead)
        if seen is None:
            return None
        # a released lead starts its unclaimed clock again at the release
        return max(seen, lead.stage_changed_at or seen)
    if status is Status.CLAIMED:
        return lead.claimed_at or lead.created_at
    if status in ACCEPTED_LIKE:
        return lead.stage_changed_at or lead.accepted_at or lead.claimed_at or lead.created_at
    return None


@dataclass(frozen=True)
class Deadline:
    step: Step
    at: datetime


def deadlines(lead: LeadClock, thresholds: Thresholds, calendar: BusinessCalendar) -> list[Deadline]:
    """Every SLA deadline of the lead's current status, earliest first."""
    start = anchor(lead)
    if start is None:
        return []
    status = Status(lead.status)
    if status is Status.NEW:
        found = [
            Deadline(Step.REMIND, calendar.add_working(start, thresholds.remind)),
            Deadline(Step.ESCALATE, calendar.add_working(start, thresholds.escalate)),
        ]
    elif status is Status.CLAIMED:
        found = [Deadline(Step.VERDICT, calendar.add_working(start, thresholds.verdict))]
    else:
        stage_time = calendar.day_length * thresholds.stage_days
        found = [Deadline(Step.STAGE, calendar.add_working(start, stage_time))]
    return sorted(found, key=lambda d: d.at)


def due_steps(
    lead: LeadClock, thresholds: Thresholds, calendar: BusinessCalendar, now: datetime
) -> list[Step]:
    """The SLA steps whose deadline has passed for the lead's current status."""
    return [d.step for d in deadlines(lead, thresholds, calendar) if d.at <= now]


def slot_of(lead_id: int, lead: LeadClock) -> str:
    """Names one SLA clock run: a step fires once per lead, status and clock start."""
    start = anchor(lead)
    stamp = int(start.timestamp()) if start else 0
    return f"lead:{lead_id}:{lead.status}:{stamp}"


_NEXT_ACTION = {
    Status.NEW: "Claim it",
    Status.CLAIMED: "Accept or reject",
    Status.ACCEPTED: "Make first contact",
    Status.CONTACTED: "Book a meeting",
    Status.MEETING_BOOKED: "Qualify the opportunity",
    Status.OPPORTUNITY: "Close it: won or lost",
}


def next_action(lead: LeadClock) -> str | None:
    """What the owner should do next, in a few words; None for closed leads."""
    return _NEXT_ACTION.get(Status(lead.status))


@dataclass(frozen=True)
class SlaClock:
    deadline: datetime
    step: Step
    overdue: bool
    remaining: timedelta  # working time left (zero when overdue)
    late_by: timedelta  # working time past the deadline (zero when not overdue)


def sla_clock(
    lead: LeadClock, thresholds: Thresholds, calendar: BusinessCalendar, now: datetime
) -> SlaClock | None:
    """The next deadline of the lead's current status (or the last one, when all have passed)."""
    found = deadlines(lead, thresholds, calendar)
    if not found:
        return None
    upcoming = [d for d in found if d.at > now]
    target = upcoming[0] if upcoming else found[-1]
    overdue = target.at <= now
    return SlaClock(
        deadline=target.at,
        step=target.step,
        overdue=overdue,
        remaining=timedelta(0) if overdue else calendar.working_between(now, target.at),
        late_by=calendar.working_between(target.at, now) if overdue else timedelta(0),
    )


def human_duration(delta: timedelta) -> str:
    """'25 min', '3 h 10 min', '2 days' — for people, not for arithmetic."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"
