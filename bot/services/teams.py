"""Who is sales and who is marketing: configured user lists first, then Slack user groups
(usergroups.users.list), cached into member.side so answers can be counted per team."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

SALES, MARKETING = "sales", "marketing"
SYNC_EVERY = timedelta(hours=1)
SYNCED_AT_KEY = "teams_synced_at"


def configured_side(handoff: Runtime, user_id: str) -> str | None:
    settings = handoff.settings
    if user_id in settings.sales_users:
        return SALES
    if user_id in settings.marketing_users:
        return MARKETING
    return None


async def sync_usergroups(handoff: Runtime, team_id: str, *, now: datetime, force: bool = False) -> bool:
    """Refresh member.side from the configured user groups, at most once per SYNC_EVERY.
    True when a sync ran. A Slack error keeps the cached sides (and is logged)."""
    settings = handoff.settings
    groups = {SALES: settings.sales_usergroup, MARKETING: settings.marketing_usergroup}
    if not any(groups.values()):
        return False
    async with handoff.uow() as uow:
        last = await uow.settings.get(team_id, SYNCED_AT_KEY)
    if not force and last and now - datetime.fromisoformat(last) < SYNC_EVERY:
        return False
    client = await handoff.clients.direct(team_id)
    found: dict[str, set[str]] = {}
    for side, group in groups.items():
        if not group:
            continue
        try:
            response = await client.usergroups_users_list(usergroup=group)
        except Exception as exc:  # a missing scope or a deleted group must not break answering
            log.warning("usergroups.users.list failed for the %s group: %s", side, exc)
            return False
        found[side] = set(response.get("users") or [])
    async with handoff.uow() as uow:
        for side, users in found.items():
            for user_id in sorted(users):
                # someone in both groups counts as sales (they carry the pipeline)
                if side == MARKETING and user_id in found.get(SALES, set()):
                    continue
                await uow.members.upsert(team_id, user_id, at=now, side=side)
            for user_id in await uow.members.by_side(team_id, side):
                if user_id not in users:
                    await uow.members.upsert(team_id, user_id, at=now, side=None)
        await uow.settings.set(team_id, SYNCED_AT_KEY, now.isoformat(), by=None, at=now)
    return True


async def side_of(handoff: Runtime, team_id: str, user_id: str, *, now: datetime) -> str | None:
    """sales, marketing, or None (unknown)."""
    side = configured_side(handoff, user_id)
    if side:
        return side
    await sync_usergroups(handoff, team_id, now=now)
    async with handoff.uow() as uow:
        member = await uow.members.get(team_id, user_id)
    return member.side if member and member.side in (SALES, MARKETING) else None
