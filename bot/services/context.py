"""What every service call needs: a unit of work, the time, the settings, who is acting; and
`open_context()`, the one way to get them (requests, scheduled jobs and the CLI alike)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from random import Random
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import messages
from bot.config import Settings
from bot.domain.errors import NotAllowed
from bot.domain.outbox import QueuedFor
from bot.outbox.notifier import Notifier
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)
SHARED_RNG = Random()


@dataclass(frozen=True)
class Admins:
    """A workspace's Handoff admins: its own list (the installer, then `/handoff admins`), else
    the HANDOFF_ADMINS default. Admins of one workspace are nobody in another."""

    user_ids: tuple[str, ...]
    own: bool  # the workspace's own list, not the environment's default
    shared_default: bool = False  # OAuth mode: HANDOFF_ADMINS may be people of another workspace

    def __contains__(self, user_id: object) -> bool:
        return bool(user_id) and user_id in self.user_ids

    @property
    def nameable(self) -> tuple[str, ...]:
        """Whom a message may name: this workspace's admins, never another workspace's people."""
        return self.user_ids if self.own or not self.shared_default else ()

    def refusal(self) -> NotAllowed:
        """The refusal for a non-admin, naming this workspace's admins and nobody else's."""
        if self.user_ids and not self.nameable:
            return NotAllowed(messages.ADMINS_ONLY_UNNAMED)
        return admins_only(self.nameable)


async def load_admins(uow: UnitOfWork, settings: Settings, team_id: str) -> Admins:
    own = await uow.settings.admins(team_id) if team_id else None
    if own is not None:
        return Admins(user_ids=own, own=True)
    return Admins(user_ids=settings.admins, own=False, shared_default=settings.oauth_enabled)


async def load_timezone(uow: UnitOfWork, settings: Settings, team_id: str) -> ZoneInfo:
    """The workspace's time zone: set in Slack (Home → Settings → Time zone), else
    HANDOFF_TIMEZONE. Target periods, the digest's week, scheduled prompts and exports all read it
    here, at each use, so a change applies at once on every instance."""
    value = await uow.settings.get(team_id, "timezone") if team_id else None
    if value in (None, ""):
        return settings.tz
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        # a bad stored value must not stop the targets or the prompts: fall back to the environment
        log.warning("workspace %s has an unusable time zone %r; using the default", team_id, value)
        return settings.tz


@dataclass
class Ctx:
    uow: UnitOfWork
    notifier: Notifier
    settings: Settings
    team_id: str
    # routing's tie-breaks draw from it (tests pass a seeded one); one for the process, since
    # seeding a Random from the OS for every request cost more than the draw
    rng: Random = field(default_factory=lambda: SHARED_RNG)
    _admins: Admins | None = field(default=None, init=False, repr=False)
    _tz: ZoneInfo | None = field(default=None, init=False, repr=False)

    @property
    def now(self) -> datetime:
        return self.notifier.now

    async def admins(self) -> Admins:
        """This workspace's admins (read once per context)."""
        if self._admins is None:
            self._admins = await load_admins(self.uow, self.settings, self.team_id)
        return self._admins

    async def tz(self) -> ZoneInfo:
        """The workspace's effective time zone (read once per context)."""
        if self._tz is None:
            self._tz = await load_timezone(self.uow, self.settings, self.team_id)
        return self._tz

    async def is_admin(self, user_id: str | None) -> bool:
        return user_id in await self.admins()

    async def require_admin(self, user_id: str | None) -> None:
        """NotAllowed, naming the workspace's admins to ask, unless `user_id` is one."""
        admins = await self.admins()
        if user_id not in admins:
            raise admins.refusal()

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
    after_commit: Callable[[frozenset[QueuedFor]], None] | None = None,
    rng: Random | None = None,
) -> AsyncIterator[Ctx]:
    """One unit of work for a service call at `now`; commits when the block ends without an
    error, then `after_commit` is told where it queued outbox rows, if it did (the running bot
    wakes its outbox sender there)."""
    async with UnitOfWork(session_factory) as uow:

        async def admins_of(team: str) -> Sequence[str]:
            return (await load_admins(uow, settings, team)).user_ids

        notifier = Notifier(uow.outbox, now=now, admins=admins_of)
        ctx = Ctx(uow=uow, notifier=notifier, settings=settings, team_id=team_id)
        if rng is not None:
            ctx.rng = rng
        yield ctx
    if after_commit is not None and (queued := uow.queued):
        after_commit(queued)


def admins_only(admins: Sequence[str]) -> NotAllowed:
    """The refusal for a non-admin: who the admins are, or how to name some."""
    if admins:
        return NotAllowed(messages.ADMINS_ONLY.format(admins=", ".join(f"<@{a}>" for a in admins)))
    return NotAllowed(messages.NO_ADMINS)
