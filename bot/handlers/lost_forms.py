"""Tell a person about a form Slack closed before its errors could be shown (bot/slack/edge.py):
a DM through the outbox, with the errors and what they typed."""

from __future__ import annotations

from typing import Any

from bot.services.runtime import Runtime
from bot.slack.lost_form import lost_form_text
from bot.slack.payloads import view_team_user


async def tell_of_lost_form(handoff: Runtime, body: dict[str, Any], errors: dict[str, str]) -> None:
    team_id, user_id = view_team_user(body)
    if not team_id or not user_id:
        return
    view = body.get("view")
    text = lost_form_text(view if isinstance(view, dict) else {}, errors)
    async with handoff.open_context(team_id) as ctx:
        await ctx.notifier.dm(team_id, user_id, text)
