"""Speed to lead (issue 14, item 5): how long leads wait from arrival to being visible to sales,
from visible to claimed, from claimed to first contact (p50 and p90), and the share claimed within
a few working minutes of reaching sales. Pure: the rows come from bot.storage.reports."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.sla import BusinessCalendar

SPEED_WITHIN = timedelta(minutes=5)  # "claimed within 5 working minutes" (the speed_to_lead target)


@dataclass(frozen=True)
class SpeedRow:
    created_at: datetime
    posted_at: datetime | None
    claimed_at: datetime | None
    contacted_at: datetime | None


@dataclass(frozen=True)
class Spread:
    """p50 and p90 of some durations, in seconds; None without data."""

    count: int = 0
    p50: float | None = None
    p90: float | None = None


@dataclass(frozen=True)
class SpeedToLead:
    leads: int  # arrived in the span
    to_visible: Spread  # arrival → its card (line, DM) was posted
    to_claim: Spread  # visible → claimed
    to_contact: Spread  # claimed → first contact
    claimed_within: float | None  # share of visible leads claimed within `within` working time
    within: timedelta = SPEED_WITHIN
    working: bool = False  # `claimed_within` counted working time (a calendar was given)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile by linear interpolation between closest ranks (as PostgreSQL's
    percentile_cont); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def spread(values: Sequence[float]) -> Spread:
    return Spread(count=len(values), p50=percentile(values, 0.5), p90=percentile(values, 0.9))


class SpeedTally:
    """speed_to_lead, fed a few rows at a time: keeps three lists of seconds and two counts, not the
    rows (100k rows as objects were ~30 MB of the weekly digest's peak, issue 22)."""

    def __init__(
        self, *, now: datetime, calendar: BusinessCalendar | None = None, within: timedelta = SPEED_WITHIN
    ) -> None:
        self.now, self.calendar, self.within = now, calendar, within
        self.leads = self.judged = self.fast = 0
        self.to_visible: list[float] = []
        self.to_claim: list[float] = []
        self.to_contact: list[float] = []

    def add(self, rows: Iterable[SpeedRow] | Iterable[tuple[Any, ...]]) -> None:
        """Rows as SpeedRow or as (created_at, posted_at, claimed_at, contacted_at) tuples."""
        calendar, within, now = self.calendar, self.within, self.now
        for row in rows:
            created_at, posted_at, claimed_at, contacted_at = (
                (row.created_at, row.posted_at, row.claimed_at, row.contacted_at)
                if isinstance(row, SpeedRow)
                else row
            )
            self.leads += 1
            if posted_at is not None:
                self.to_visible.append(max(0.0, (posted_at - created_at).total_seconds()))
            seen = posted_at or (created_at if claimed_at else None)
            if seen is not None and claimed_at is not None:
                self.to_claim.append(max(0.0, (claimed_at - seen).total_seconds()))
            if claimed_at is not None and contacted_at is not None:
                self.to_contact.append(max(0.0, (contacted_at - claimed_at).total_seconds()))
            if seen is None:
                continue
            end = claimed_at or now
            waited = calendar.working_between(seen, end) if calendar else max(timedelta(0), end - seen)
            if claimed_at is not None and waited <= within:
                self.judged, self.fast = self.judged + 1, self.fast + 1
            elif waited > within:
                self.judged += 1

    def result(self) -> SpeedToLead:
        return SpeedToLead(
            leads=self.leads,
            to_visible=spread(self.to_visible),
            to_claim=spread(self.to_claim),
            to_contact=spread(self.to_contact),
            claimed_within=self.fast / self.judged if self.judged else None,
            within=self.within,
            working=self.calendar is not None,
        )


def speed_to_lead(
    rows: Sequence[SpeedRow],
    *,
    now: datetime,
    calendar: BusinessCalendar | None = None,
    within: timedelta = SPEED_WITHIN,
) -> SpeedToLead:
    """Durations are wall time (what the prospect waits); the share claimed "within" counts
    working time when a calendar is given (a lead that reached sales at 16:58 on Friday and was
    claimed at 9:02 on Monday took 4 working minutes). A lead still unclaimed is counted once its
    time is up, not before."""
    tally = SpeedTally(now=now, calendar=calendar, within=within)
    tally.add(rows)
    return tally.result()
