"""Bolt listeners, one module per surface; each module's register() lists what it listens to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from bot.handlers import admin, commands, discuss, home, intake, lead_actions, lead_queries, status, verdicts
from bot.handlers import export as export_handlers
from bot.handlers import targets as targets_handlers
from bot.handlers.router import CommandRouter
from bot.ids import Command

if TYPE_CHECKING:
    from bot.app import Handoff


def register_all(bolt: AsyncApp, handoff: Handoff) -> None:
    async def inject_handoff(context, next):
        # named "handoff" so it never clashes with Bolt's own listener arguments
        context["handoff"] = handoff
        await next()

    bolt.middleware(inject_handoff)
    routers = {command: CommandRouter(command) for command in Command}
    commands.register(bolt, routers)
    status.register(bolt, routers)
    lead_actions.register(bolt)
    intake.register(bolt, routers)
    admin.register(bolt, routers)
    discuss.register(bolt, routers)
    verdicts.register(bolt)
    lead_queries.register(routers)
    targets_handlers.register(bolt, routers)
    home.register(bolt, handoff)
    export_handlers.register(routers)
    for router in routers.values():
        if router.has_handlers:
            bolt.command(router.command.value)(router.dispatch)
            handoff.registered_commands.append(router.command.value)
            handoff.registered_subcommands[router.command.value] = router.subcommands
