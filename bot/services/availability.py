"""Reps' Slack profiles for routing: their time zone and status, read with users.info and cached on
the member row (intake never waits on Slack). A job refreshes the reps of enabled rules and the
owners of accounts every quarter hour, a stale profile first; the routing service reads the cache."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk.errors import SlackApiError

from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

JOB_NAME = "rep_profiles"
EVERY = timedelta(minutes=15)
STALE = timedelta(minutes=15)
MAX_PER_RUN = 200  # users.info is tier 4 (100+/min); a big team is refreshed over a few runs


def every_quarter_hour(handoff: Runtime) -> BaseTrigger:
    """Every quarter hour, the first run a few seconds after start (fresh profiles after a deploy)."""
    return IntervalTrigger(
        seconds=EVERY.total_seconds(),
        start_date=handoff.clock.now() + timedelta(seconds=10),
        timezone=handoff.settings.tz,
    )


def profile_values(user: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """What routing keeps of a users.info `user`: tz and the custom status (with its expiry)."""
    profile = user.get("profile") or {}
    tz = user.get("tz")
    offset = user.get("tz_offset")
    expiration = profile.get("status_expiration")
    return {
        "tz": str(tz)[:64] if tz else None,
        "tz_offset": int(offset) if isinstance(offset, int) else None,
        "status_text": str(profile.get("status_text") or "")[:200] or None,
        "status_emoji": str(profile.get("status_emoji") or "")[:100] or None,
        "status_expiration": int(expiration) if isinstance(expiration, int) and expiration > 0 else None,
        "profile_at": now,
    }


async def refresh_profiles(handoff: Runtime, team_id: str, now: datetime) -> int:
    """Read the stale profiles of the people routing may pick; returns how many were refreshed.
    A Slack error skips the person (their cached profile stays); a 429 ends the run."""
    async with handoff.uow() as uow:
        people = {rep for rule in await uow.rules.enabled(team_id) for rep in rule.reps or ()}
        people |= {owner for _, _, _, owner in await uow.routing.owned_accounts(team_id)}
        stale = await uow.routing.stale_members(team_id, sorted(people), before=now - STALE)
    if not stale:
        return 0
    client = await handoff.clients.direct(team_id)
    found: dict[str, dict[str, Any]] = {}
    for user_id in stale[:MAX_PER_RUN]:
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            log.warning("users.info failed for a rep (%s)", error)
            if error == "ratelimited":
                break
            continue
        user = response.get("user")
        if isinstance(user, dict):
            found[user_id] = profile_values(user, now)
    async with handoff.uow() as uow:
        for user_id, values in found.items():
            await uow.members.upsert(team_id, user_id, at=now, **values)
    return len(found)
