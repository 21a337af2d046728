"""People and user groups: adding them, users.info and usergroups.users.list."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.sandbox.fake_slack.models import SlackError
from bot.sandbox.fake_slack.state import SlackState


class UsersMethods(SlackState):
    """The workspace's people and user groups, and the Web API methods that look them up."""

    # ------------------------------------------------------------------ setup

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        real_name: str | None = None,
        is_admin: bool = False,
        tz: str = "UTC",
        is_bot: bool = False,
        email: str | None = None,
    ) -> dict[str, Any]:
        offset = int(datetime.now(ZoneInfo(tz)).utcoffset().total_seconds())  # type: ignore[union-attr]
        real = real_name or name
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": False,
            "real_name": real,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": offset,
            "is_admin": is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(self.clock()),
            "profile": {
                "real_name": real,
                "display_name": name,
                "real_name_normalized": real,
                "display_name_normalized": name,
                "email": email or f"{name}@example.com",
                "team": self.team_id,
                # as users.info returns them: empty strings and 0 when no status is set
                "status_text": "",
                "status_emoji": "",
                "status_expiration": 0,
            },
        }
        self.users[user_id] = user
        return user

    def set_status(self, user_id: str, *, text: str = "", emoji: str = "", expiration: int = 0) -> None:
        """What users.profile.set would do: the custom status (`expiration` in epoch seconds, 0: never)."""
        profile = self.users[user_id]["profile"]
        profile.update({"status_text": text, "status_emoji": emoji, "status_expiration": expiration})
        self.users[user_id]["updated"] = int(self.clock())

    def add_usergroup(self, group_id: str, *, handle: str, users: Iterable[str]) -> dict[str, Any]:
        group = {"id": group_id, "team_id": self.team_id, "handle": handle, "users": list(users)}
        self.usergroups[group_id] = group
        return group

    # ------------------------------------------------------------------ Web API: users.*, usergroups.*

    def _users_info(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        user = self.users.get(str(args.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": copy.deepcopy(user)}

    def _usergroups_users_list(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        group = self.usergroups.get(str(args.get("usergroup") or ""))
        if group is None:
            raise SlackError("no_such_subteam")
        return {"users": list(group["users"])}
