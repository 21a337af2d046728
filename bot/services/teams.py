"""Who is sales and who is marketing: configured user lists first, then Slack user groups
(usergroups.users.list), cached into member.side so answers can be counted per team."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

SALES, MARKETING = "sales", "marketing"
SYNC_EVERY = timedelta(hours=1)
SYNCED_AT_KEY = "teams_synced_at"


@dataclass(frozen=True)
class TeamConfig:
    """Who is sales and who is marketing: the environment's lists and groups, each overridden per
    workspace by the setting of the same name (Home → Settings), read per use."""

    sales_users: tuple[str, ...]
    marketing_users: tuple[str, ...]
    sales_usergroup: str | None
    marketing_usergroup: str | None


async def team_config(handoff: Runtime, team_id: str) -> TeamConfig:
    s = handoff.settings
    keys = ("sales_users", "marketing_users", "sales_usergroup", "marketing_usergroup")
    async with handoff.uow() as uow:
        rows = await uow.settings.overrides(team_id, keys)
    own = {key: row.value for key, row in rows.items() if row.value not in (None, "")}
    return TeamConfig(
        sales_users=tuple(own.get("sales_users", s.sales_users)),
        marketing_users=tuple(own.get("marketing_users", s.marketing_users)),
        sales_usergroup=own.get("sales_usergroup", s.sales_usergroup),
        marketing_usergroup=own.get("marketing_usergroup", s.marketing_usergroup),
    )


def configured_side(config: TeamConfig, user_id: str) -> str | None:
    if user_id in config.sales_users:
        return SALES
    if user_id in config.marketing_users:
        return MARKETING
    return None


async def sync_usergroups(handoff: Runtime, team_id: str, *, now: datetime, force: bool = False) -> bool:
    """Refresh member.side from the configured user groups, at most once per SYNC_EVERY.
    True when a sync ran. A Slack error keeps the cached sides (and is logged)."""
    config = await team_config(handoff, team_id)
    groups = {SALES: config.sales_usergroup, MARKETING: config.marketing_usergroup}
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
    side = configured_side(await team_config(handoff, team_id), user_id)
    if side:
        return side
    await sync_usergroups(handoff, team_id, now=now)
    async with handoff.uow() as uow:
        member = await uow.members.get(team_id, user_id)
    return member.side if member and member.side in (SALES, MARKETING) else None
