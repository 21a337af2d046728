"""Bolt listeners, one module per surface; each module's register() lists what it listens to."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.handlers import (
    admin,
    admins,
    commands,
    discuss,
    home,
    idempotency,
    insights,
    intake,
    lead_actions,
    lead_queries,
    retention,
    settings,
    signals,
    status,
    tokens,
    verdicts,
    webhooks,
    workspace_events,
)
from bot.handlers import export as export_handlers
from bot.handlers import targets as targets_handlers
from bot.handlers.interactions import InteractionRouter
from bot.handlers.registry import Registered
from bot.handlers.router import CommandRouter
from bot.ids import Command
from bot.services.runtime import Runtime
from bot.slack.response_urls import guard_reply_url


def register_all(
    bolt: AsyncApp, handoff: Runtime, *, on_request: Callable[[], None] | None = None
) -> Registered:
    """Every listener, behind one global middleware (`on_request` runs for each request that gets
    past it, without being waited for)."""
    registered = Registered()
    api_url = handoff.settings.slack_api_url

    # One middleware for what every request needs: Bolt builds each middleware's arguments anew per
    # request (~25 µs a time), and there were four (profile of a Claim).
    async def per_request(body: dict[str, Any], context: Any, request: Any, next: Any) -> Any:
        # named "handoff" so it never clashes with Bolt's own listener arguments
        context["handoff"] = handoff
        # a payload's response_url is followed only to Slack (and the configured SLACK_API_URL)
        guard_reply_url(context, api_url)
        # Events API retries run once in HTTP and Socket Mode alike
        if (handled := await idempotency.skip_if_handled(handoff, body, context, request)) is not None:
            return handled
        if on_request is not None:
            on_request()
        return await next()

    bolt.middleware(per_request)
    idempotency.register(bolt, handoff)
    routers = {command: CommandRouter(command) for command in Command}

    # One listener for every slash command, registered before anything else. Bolt tries listeners
    # in registration order and each try costs ~35 µs (it builds the matcher's arguments), so with
    # the routers registered last a command paid for ~20 action/view listeners first: about 0.8 ms
    # a request, as much as all of bare Bolt (profile of /handoff help).
    async def dispatch_command(
        ack: Any, body: dict[str, Any], respond: Any, client: Any, context: Any
    ) -> None:
        router = routers[Command(body["command"])]
        await router.dispatch(ack, body, respond, client, context)

    bolt.command(re.compile("^(?:" + "|".join(re.escape(c.value) for c in Command) + ")$"))(dispatch_command)
    # clicks and modal submissions: ack, parse, transaction and error answers in one place
    interactions = InteractionRouter(bolt)
    commands.register(bolt, routers)
    status.register(bolt, routers)
    lead_actions.register(interactions)
    intake.register(bolt, routers)
    admin.register(bolt, routers)
    admins.register(routers)
    discuss.register(routers, interactions)
    verdicts.register(interactions)
    lead_queries.register(routers)
    targets_handlers.register(routers, interactions)
    home.register(bolt, interactions, registered)
    export_handlers.register(routers)
    tokens.register(bolt, routers)
    webhooks.register(bolt, routers)
    workspace_events.register(bolt, registered)
    settings.register(routers, interactions)
    retention.register(routers, interactions)
    insights.register(bolt, routers, interactions)
    signals.register(interactions)
    for router in routers.values():
        if router.has_handlers:
            registered.commands.append(router.command.value)
            registered.subcommands[router.command.value] = router.subcommands
    return registered
