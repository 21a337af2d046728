"""What listeners, routes and scheduled jobs need of the running bot, as a protocol: they take a
Runtime instead of importing the app (bot.app.Handoff is the one that runs)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from bot.clock import Clock
from bot.config import Settings
from bot.services.context import Ctx
from bot.services.workspaces import Uninstalled
from bot.slack.clients import SlackClients
from bot.slack.membership import ChannelMembers
from bot.storage.uow import UnitOfWork


class Runtime(Protocol):
    settings: Settings
    clock: Clock
    instance_id: str
    clients: SlackClients
    # channel member lists for Claim's membership check, remembered briefly
    channel_members: ChannelMembers

    def open_context(self, team_id: str, *, now: datetime | None = None) -> AbstractAsyncContextManager[Ctx]:
        """A unit of work + notifier at `now` (default: the clock); the outbox sender wakes
        after the commit, so queued Slack writes go out at once."""
        ...

    def uow(self) -> UnitOfWork:
        """A unit of work for reads and bookkeeping that queue no Slack writes."""
        ...

    def read_uow(self) -> UnitOfWork:
        """A read-only unit of work for reports that read a lot (the digest, exports, scoreboards):
        on SQLite a connection of its own reading a snapshot beside the writer, so requests never
        queue behind it; writing through it fails. Elsewhere the same as uow()."""
        ...

    def wake_sender(self) -> None: ...

    async def team_ids(self) -> list[str]:
        """Workspaces to run scheduled work for."""
        ...

    async def default_team_id(self) -> str | None: ...

    async def workspace_uninstalled(self, team_id: str, *, enterprise_id: str | None, why: str) -> None:
        """Stop the workspace's jobs and deliveries, keep its data (bot/services/workspaces.py)."""
        ...

    async def uninstalled_workspaces(self) -> list[Uninstalled]: ...

    def run_in_background(self, work: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Work that outlives its request; shutdown waits for it."""
        ...
