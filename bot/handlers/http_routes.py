"""HTTP routes outside Slack: the lead intake API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.app import Handoff


def register(app: web.Application, handoff: Handoff) -> None:
    async def intake_not_ready(request: web.Request) -> web.StreamResponse:
        return web.json_response({"error": "the lead API is not available yet"}, status=501)

    app.router.add_post("/api/leads", intake_not_ready)
