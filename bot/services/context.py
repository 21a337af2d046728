"""What every service call needs: a unit of work, the time, the settings, who is acting; and
`open_context()`, the one way to get them (requests, scheduled jobs and the CLI alike)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import messages
from bot.config import Settings
from bot.domain.errors import NotAllowed
from bot.outbox.notifier import Notifier
from bot.storage.uow import UnitOfWork


@dataclass
class Ctx:
    uow: UnitOfWork
    notifier: Notifier
    settings: Settings
    team_id: str

    @property
    def now(self) -> datetime:
        return self.notifier.now

    def is_admin(self, user_id: str | None) -> bool:
        return bool(user_id) and user_id in self.settings.admins

    def require_admin(self, user_id: str | None) -> None:
        """NotAllowed, naming the admins to ask, unless `user_id` is one."""
        if not self.is_admin(user_id):
            raise admins_only(self.settings.admins)

    async def channel_setting(self, key: str) -> str | None:
        """A channel admins set from Slack, else the environment default."""
        value = await self.uow.settings.get(self.team_id, key, getattr(self.settings, key))
        return None if value is None else str(value)


@asynccontextmanager
async def open_context(
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    team_id: str,
    *,
    now: datetime,
    after_commit: Callable[[], None] | None = None,
) -> AsyncIterator[Ctx]:
    """One unit of work for a service call at `now`; commits when the block ends without an
    error, then `after_commit` runs (the running bot wakes its outbox sender there)."""
    async with UnitOfWork(session_factory) as uow:
        notifier = Notifier(uow.outbox, now=now, admins=settings.admins)
        yield Ctx(uow=uow, notifier=notifier, settings=settings, team_id=team_id)
    if after_commit is not None:
        after_commit()


def admins_only(admins: Sequence[str]) -> NotAllowed:
    """The refusal for a non-admin: who the admins are, or how to name some."""
    if admins:
        return NotAllowed(messages.ADMINS_ONLY.format(admins=", ".join(f"<@{a}>" for a in admins)))
    return NotAllowed(messages.NO_ADMINS)
