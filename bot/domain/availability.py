"""Can a rep take a lead right now? Away (`/handoff away`), an out-of-office Slack status, and — for
a rule that asks for it — outside their own working hours in their own Slack time zone, or on a
holiday. Pure: the routing service hands in what the member row caches of Slack's profile."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.sla import BusinessCalendar

AWAY = "away"
OUT_OF_OFFICE = "out of office"
OUTSIDE_HOURS = "outside working hours"
HOLIDAY = "on holiday"
TIME_OFF = "time off"
MAX_TIME_OFF_DAYS = 366


def parse_time_off(text: str, today: date) -> tuple[date, date]:
    """`2026-12-24..2026-12-31`, `until 2026-12-31` or one date → (first day, last day), both
    inclusive; ValueError saying what to write."""
    words = text.strip().lower()
    try:
        if words.startswith("until "):
            first, last = today, date.fromisoformat(words[6:].strip())
        elif ".." in words:
            a, _, b = words.partition("..")
            first, last = date.fromisoformat(a.strip()), date.fromisoformat(b.strip())
        else:
            first = last = date.fromisoformat(words)
    except ValueError:
        raise ValueError(
            "write the days off as 2026-12-24..2026-12-31, until 2026-12-31, or one date"
        ) from None
    if last < first:
        raise ValueError("the last day off is before the first")
    if last < today:
        raise ValueError("those days are over")
    if (last - first).days > MAX_TIME_OFF_DAYS:
        raise ValueError("at most a year at a time; `/handoff away` with no dates is until `/handoff back`")
    return first, last


# Slack's own suggested statuses for time off ("Vacationing", "Out sick") and common ones
DEFAULT_OOO_EMOJI = (":palm_tree:", ":face_with_thermometer:", ":airplane:", ":no_entry:")
DEFAULT_OOO_TEXT = ("out of office", "ooo", "vacation", "vacationing", "on leave", "holiday", "out sick")


@dataclass(frozen=True)
class RepInfo:
    """What Handoff knows of a rep (the member row; the profile fields from Slack's users.info)."""

    user_id: str
    away: bool = False
    tz: str | None = None
    status_text: str | None = None
    status_emoji: str | None = None
    status_expiration: int | None = None  # epoch seconds; 0 or None: no expiry
    away_from: date | None = None  # time off set ahead, in the rep's own dates (both inclusive)
    away_until: date | None = None


@dataclass(frozen=True)
class OooPolicy:
    emoji: tuple[str, ...] = DEFAULT_OOO_EMOJI
    text: tuple[str, ...] = DEFAULT_OOO_TEXT


def out_of_office(info: RepInfo, now: datetime, policy: OooPolicy) -> str | None:
    """The status that says so ("🌴 Vacationing"), or None; an expired status says nothing."""
    if not info.status_emoji and not info.status_text:
        return None
    if info.status_expiration and info.status_expiration <= now.timestamp():
        return None
    emoji = (info.status_emoji or "").strip().lower()
    emojis, phrases = _policy(policy)
    if emoji and emoji in emojis:
        return f"{OUT_OF_OFFICE} (status {emoji})"
    words = f" {' '.join(_words((info.status_text or '').lower()))} "
    for phrase in phrases:
        if phrase in words:
            return f"{OUT_OF_OFFICE} (status “{info.status_text}”)"
    return None


@lru_cache(maxsize=64)
def _policy(policy: OooPolicy) -> tuple[frozenset[str], tuple[str, ...]]:
    emojis = frozenset(e.strip().lower() for e in policy.emoji if e.strip())
    phrases = tuple(f" {' '.join(_words(p.lower()))} " for p in policy.text if _words(p))
    return emojis, phrases


def _words(text: str) -> list[str]:
    return "".join(c if c.isalnum() else " " for c in text).split()


def rep_zone(tz: str | None, fallback: ZoneInfo) -> ZoneInfo:
    if not tz:
        return fallback
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def off_hours(info: RepInfo, now: datetime, calendar: BusinessCalendar) -> str | None:
    """Outside the workspace's working hours and days as they fall in the rep's own time zone, or
    on one of its holidays (a rep without a known zone uses the workspace's)."""
    own = replace(calendar, tz=rep_zone(info.tz, calendar.tz))
    local = now.astimezone(own.tz)
    if local.date() in own.holidays:
        return f"{HOLIDAY} ({local.date().isoformat()})"
    if local.weekday() not in own.days:
        return f"{OUTSIDE_HOURS} ({local:%a %H:%M} {own.tz.key})"
    opens, closes = own.window(local.date())
    if not opens <= now < closes:
        return f"{OUTSIDE_HOURS} ({local:%H:%M} {own.tz.key})"
    return None


def unavailable(
    info: RepInfo | None,
    now: datetime,
    *,
    policy: OooPolicy,
    calendar: BusinessCalendar | None,
    zone: ZoneInfo | None = None,
) -> str | None:
    """Why the rep cannot take a lead now (None: they can). `calendar` only for rules that route
    within working hours; `zone` is the workspace's, for a rep whose own is not known."""
    if info is None:
        return None
    if info.away:
        return AWAY
    if info.away_until is not None:
        fallback = zone or (calendar.tz if calendar else ZoneInfo("UTC"))
        today = now.astimezone(rep_zone(info.tz, fallback)).date()
        if (info.away_from is None or info.away_from <= today) and today <= info.away_until:
            return f"{TIME_OFF} (until {info.away_until.isoformat()})"
    ooo = out_of_office(info, now, policy)
    if ooo:
        return ooo
    if calendar is not None:
        return off_hours(info, now, calendar)
    return None


def unavailable_map(
    reps: Sequence[str],
    infos: dict[str, RepInfo],
    now: datetime,
    *,
    policy: OooPolicy,
    calendar: BusinessCalendar | None,
) -> dict[str, str]:
    out: dict[str, str] = {}
    for rep in reps:
        why = unavailable(infos.get(rep), now, policy=policy, calendar=calendar)
        if why:
            out[rep] = why
    return out
