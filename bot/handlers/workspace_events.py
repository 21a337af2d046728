"""Slack's lifecycle events: the app uninstalled from a workspace, or its tokens revoked."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.handlers.registry import Registered
from bot.ids import Event
from bot.slack.payloads import installed_team_id

log = logging.getLogger(__name__)


def register(app: AsyncApp, registered: Registered) -> None:
    async def on_app_uninstalled(body: dict[str, Any], context: Any) -> None:
        team_id = installed_team_id(body)
        await context["handoff"].workspace_uninstalled(
            team_id, enterprise_id=body.get("enterprise_id"), why=Event.APP_UNINSTALLED.value
        )

    async def on_tokens_revoked(event: dict[str, Any], body: dict[str, Any], context: Any) -> None:
        team_id = installed_team_id(body)
        tokens = event.get("tokens")
        tokens = tokens if isinstance(tokens, dict) else {}
        if not tokens.get("bot"):
            # user tokens only: the bot never acts with them, so nothing stops
            log.info("user tokens revoked in %s; the bot's own token is unaffected", team_id)
            return
        await context["handoff"].workspace_uninstalled(
            team_id, enterprise_id=body.get("enterprise_id"), why=Event.TOKENS_REVOKED.value
        )

    app.event(Event.APP_UNINSTALLED.value)(on_app_uninstalled)
    app.event(Event.TOKENS_REVOKED.value)(on_tokens_revoked)
    registered.events.extend([Event.APP_UNINSTALLED.value, Event.TOKENS_REVOKED.value])
