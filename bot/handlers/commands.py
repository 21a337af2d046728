"""General slash commands: /handoff help."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot import messages
from bot.handlers.router import CommandRequest, CommandRouter
from bot.ids import Command


def register(app: AsyncApp, routers: dict[Command, CommandRouter]) -> None:
    handoff = routers[Command.HANDOFF]
    handoff.sub("help", "")(help_command)


async def help_command(req: CommandRequest) -> None:
    await req.ack(text=messages.HELP)
