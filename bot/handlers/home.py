"""App Home: publish the person's Home when they open it, and page through their open leads."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers.interactions import ClickRequest, InteractionRouter
from bot.handlers.lead_access import visible_accounts
from bot.handlers.registry import Registered
from bot.ids import ActionId, Event
from bot.services.home import HOME_CUSTOMERS, QualityCache, build_home
from bot.services.runtime import Runtime
from bot.slack.blocks.home import home_view
from bot.slack.payloads import installed_team_id

log = logging.getLogger(__name__)


def register(app: AsyncApp, interactions: InteractionRouter, registered: Registered) -> None:
    # one per app: marketing's quality table reads a quarter of leads, so it is remembered briefly
    cache = QualityCache()

    async def on_home_opened(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: Any
    ) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        team_id = installed_team_id(body) or context.team_id or ""
        await publish_home(context["handoff"], client, team_id, event["user"], cache=cache)

    async def on_home_page(req: ClickRequest) -> None:
        page = int(req.click.value) if req.click.value.isdigit() else 0
        await publish_home(req.handoff, req.client, req.team_id, req.user_id, page, cache=cache)

    app.event(Event.APP_HOME_OPENED.value)(on_home_opened)
    interactions.click(ActionId.HOME_PAGE)(on_home_page)
    registered.events.append(Event.APP_HOME_OPENED.value)


async def publish_home(
    handoff: Runtime,
    client: AsyncWebClient,
    team_id: str,
    user_id: str,
    page: int = 0,
    *,
    cache: QualityCache,
) -> None:
    """A read, answered straight away (views.publish is not a write that follows a state change)."""
    async with handoff.read_uow() as uow:
        data = await build_home(
            uow,
            handoff.settings,
            team_id=team_id,
            user_id=user_id,
            now=handoff.clock.now(),
            page=page,
            quality_cache=cache,
        )
    # customers as their won leads are seen (a private channel's for its members)
    customers = await visible_accounts(handoff, client, team_id, user_id, data.customers)
    data = replace(data, customers=customers[:HOME_CUSTOMERS])
    await client.views_publish(user_id=user_id, view=home_view(data))
