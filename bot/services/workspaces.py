"""A workspace's installation: uninstalled (app_uninstalled, or its bot token revoked) stops its
scheduled jobs and Slack deliveries and keeps its data; installing again resumes both.

The mark is a workspace setting, so every instance and `/handoff status` see it. It names the
installation it ended (a fingerprint of the bot token in single-workspace mode; with OAuth the
installation rows themselves are deleted and come back on reinstall), so a new token or a new
installation is never mistaken for the one that was removed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.storage.uow import UnitOfWork

INSTALLATION_KEY = "installation"


@dataclass(frozen=True)
class Uninstalled:
    team_id: str
    why: str
    at: str
    token: str


def token_mark(token: str | None) -> str:
    """Which installation a mark is about, without storing the token (OAuth installs: "oauth")."""
    return hashlib.sha256(token.encode()).hexdigest()[:16] if token else "oauth"


async def mark_uninstalled(
    uow: UnitOfWork, team_id: str, *, why: str, token: str | None, at: datetime
) -> None:
    value = {
        "state": "uninstalled",
        "why": why,
        "at": at.isoformat(timespec="seconds"),
        "token": token_mark(token),
    }
    await uow.settings.set(team_id, INSTALLATION_KEY, value, by=None, at=at)


async def uninstalled(uow: UnitOfWork) -> list[Uninstalled]:
    """Every workspace marked uninstalled, whether or not it has been installed again since."""
    found = []
    for team_id, value in sorted((await uow.settings.everywhere(INSTALLATION_KEY)).items()):
        if isinstance(value, dict) and value.get("state") == "uninstalled":
            found.append(_read(team_id, value))
    return found


def _read(team_id: str, value: dict[str, Any]) -> Uninstalled:
    return Uninstalled(
        team_id=team_id,
        why=str(value.get("why") or ""),
        at=str(value.get("at") or ""),
        token=str(value.get("token")),
    )
