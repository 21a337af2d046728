"""When a follow-up is due: 'in 3 days', 'tomorrow', 'next monday', '2026-12-15', placed inside
the rep's working hours (pure: the calendar and the time are arguments)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.sla import BusinessCalendar

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_AHEAD = timedelta(days=366)
MAX_NOTE = 500


@dataclass(frozen=True)
class When:
    due_at: datetime  # UTC
    rest: str  # the words after the time: the note


def _day(text: str, today: date) -> tuple[date | timedelta, str] | None:
    lowered = text.lower()
    if m := re.match(r"in\s+(\d{1,3})\s+(hour|hours|h|day|days|d|week|weeks|w)\b\s*", lowered):
        n, unit = int(m.group(1)), m.group(2)[0]
        delta = {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]
        return delta, text[m.end() :]
    if m := re.match(r"tomorrow\b\s*", lowered):
        return today + timedelta(days=1), text[m.end() :]
    if m := re.match(r"(?:next\s+)?(" + "|".join(WEEKDAYS) + r")\b\s*", lowered):
        wanted = WEEKDAYS.index(m.group(1))
        ahead = (wanted - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead), text[m.end() :]
    if m := re.match(r"(\d{4}-\d{2}-\d{2})\b\s*", lowered):
        try:
            return date.fromisoformat(m.group(1)), text[m.end() :]
        except ValueError:
            return None
    return None


def parse_when(text: str, *, now: datetime, calendar: BusinessCalendar) -> When | None:
    """The due time for `text` (and the note after it), or None when it names no time or a past
    one. A day is due when that day's working hours open (the next working day when it has none);
    'in 4 hours' is wall time, moved to the next opening when it falls outside working hours."""
    parsed = _day(text.strip(), now.astimezone(calendar.tz).date())
    if parsed is None:
        return None
    what, rest = parsed
    if isinstance(what, timedelta):
        if what <= timedelta(0):
            return None
        due = now + what
        if what >= timedelta(days=1):  # days and weeks: that day's opening, not this minute
            due = _opening(calendar, due.astimezone(calendar.tz).date())
        elif not calendar.is_open(due):
            due = _opening(calendar, due.astimezone(calendar.tz).date(), after=due)
    else:
        due = _opening(calendar, what)
    if due <= now or due - now > MAX_AHEAD:
        return None
    return When(due_at=due, rest=rest.strip()[:MAX_NOTE])


def _opening(calendar: BusinessCalendar, day: date, *, after: datetime | None = None) -> datetime:
    """The first working instant on `day` or later (after `after`, when given)."""
    for _ in range(400):
        if calendar.is_working_day(day):
            opens, closes = calendar.window(day)
            if after is None or after < opens:
                return opens
            if after < closes:
                return after
        day += timedelta(days=1)
    return calendar.window(day)[0]


TARGET_KINDS = ("lead", "account", "signal")


def parse_target(value: str) -> tuple[str, int] | None:
    """'lead:12' → ('lead', 12): what a Remind me button or form is about."""
    kind, _, raw = value.partition(":")
    if kind not in TARGET_KINDS or not raw.isascii() or not raw.isdigit():
        return None
    return kind, int(raw)


def parse_user_ref(text: str) -> str | None:
    """'<@U123|rob>' or '<@U123>' or 'U123' → 'U123'."""
    m = re.fullmatch(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|([UW][A-Z0-9]{2,})", text.strip())
    return (m.group(1) or m.group(2)) if m else None
