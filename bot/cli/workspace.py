"""What CLI commands that write to the database share: the engine, the workspace, a Ctx."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import ConfigError, Settings
from bot.services.context import Ctx, open_context
from bot.slack.clients import SlackClients
from bot.storage.db import make_session_factory
from bot.storage.uow import UnitOfWork


async def resolve_team(settings: Settings, engine: AsyncEngine, given: str | None) -> str:
    """--team-id, else the only installed workspace, else the bot token's workspace (auth.test)."""
    if given:
        return given
    async with UnitOfWork(make_session_factory(engine)) as uow:
        teams = await uow.installations.team_ids()
    if len(teams) == 1:
        return teams[0]
    if len(teams) > 1:
        raise ConfigError(f"--team-id: several workspaces are installed ({', '.join(teams)}); pick one")
    bot_token = settings.secret("slack_bot_token")
    if not bot_token:
        raise ConfigError("--team-id: no workspace installed and SLACK_BOT_TOKEN is not set; pass --team-id")
    team = await SlackClients(base_url=settings.slack_api_url, bot_token=bot_token).default_team_id()
    if not team:
        raise ConfigError("SLACK_BOT_TOKEN: auth.test did not name a workspace; pass --team-id")
    return team


def transaction(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    team_id: str,
    clock: Clock | None = None,
) -> AbstractAsyncContextManager[Ctx]:
    """One unit of work, as the bot's; the running bot's outbox sender posts the rows."""
    return open_context(session_factory, settings, team_id, now=(clock or SystemClock()).now())
