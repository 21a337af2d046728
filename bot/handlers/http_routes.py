"""HTTP routes outside Slack: the lead intake API (bot/handlers/intake_api.py) HubSpot's door
(bot/handlers/hubspot_api.py) and Salesforce's (bot/handlers/salesforce_api.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.handlers import hubspot_api, intake_api, salesforce_api

if TYPE_CHECKING:
    from bot.services.runtime import Runtime


def register(app: web.Application, handoff: Runtime) -> None:
    intake_api.register(app, handoff)
    hubspot_api.register(app, handoff)
    salesforce_api.register(app, handoff)
