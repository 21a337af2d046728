"""Bot tokens and OAuth: extra workspaces, revoked tokens, install codes, auth.test and oauth.v2.access."""

from __future__ import annotations

import copy
from typing import Any

from bot.sandbox.fake_slack.models import SlackError
from bot.sandbox.fake_slack.state import SlackState


class AuthMethods(SlackState):
    """The tokens the fake accepts and the OAuth codes it will exchange for new ones."""

    # ------------------------------------------------------------------ setup

    def add_token(
        self,
        token: str,
        *,
        team_id: str,
        team_name: str = "Other",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
    ) -> None:
        """Accept another bot token (e.g. a second workspace)."""
        self._tokens[token] = {
            "team_id": team_id,
            "team": team_name,
            "user_id": bot_user_id,
            "bot_id": bot_id,
        }

    def revoke_token(self, token: str) -> None:
        self._tokens.pop(token, None)

    def set_oauth_code(
        self,
        code: str,
        *,
        team_id: str,
        bot_token: str,
        team_name: str = "Installed Team",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        scope: str = "chat:write,commands,users:read",
        authed_user_id: str = "U0INSTALLER",
        enterprise_id: str | None = None,
    ) -> None:
        self._oauth_codes[code] = {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": authed_user_id},
            "scope": scope,
            "token_type": "bot",
            "access_token": bot_token,
            "bot_user_id": bot_user_id,
            "team": {"id": team_id, "name": team_name},
            "enterprise": {"id": enterprise_id} if enterprise_id else None,
            "is_enterprise_install": False,
            "_bot_id": bot_id,
        }

    # ------------------------------------------------------------------ Web API: auth.test, oauth.v2.access

    def _auth_test(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        assert ident is not None
        user = self.users.get(ident["user_id"], {})
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": ident["team"],
            "user": user.get("name", "handoff"),
            "team_id": ident["team_id"],
            "user_id": ident["user_id"],
            "bot_id": ident["bot_id"],
            "is_enterprise_install": False,
        }

    def _oauth_v2_access(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        grant = self._oauth_codes.pop(str(args.get("code") or ""), None)
        if grant is None:
            raise SlackError("invalid_code")
        out = copy.deepcopy(grant)
        bot_id = out.pop("_bot_id")
        out.pop("ok")
        self._tokens[out["access_token"]] = {
            "team_id": out["team"]["id"],
            "team": out["team"]["name"],
            "user_id": out["bot_user_id"],
            "bot_id": bot_id,
        }
        return out
