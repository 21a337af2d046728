"""Unit of work: one transaction, its repositories (writes) and its reports (aggregate reads),
commit on success, rollback on error."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Generic, TypeVar, overload

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn

from bot.domain.outbox import QueuedFor
from bot.storage.api_tokens import ApiTokenRepo
from bot.storage.batches import BatchRepo
from bot.storage.crm_records import CrmRecordRepo
from bot.storage.db import connections_wanted, room_for_background
from bot.storage.discussions import DiscussionRepo
from bot.storage.raw import raw_sql
from bot.storage.reports import Reports
from bot.storage.repositories import (
    EventRepo,
    InstallationRepo,
    KeyRepo,
    LeadRepo,
    MemberRepo,
    OutboxRepo,
    RuleRepo,
    SettingAuditRepo,
    SettingRepo,
    SlotRepo,
)
from bot.storage.retention import RetentionRepo
from bot.storage.routing import RoutingRepo
from bot.storage.sla_checks import SlaCheckRepo
from bot.storage.sqlite_driver import in_background
from bot.storage.targets import MetricReportRepo, TargetRepo
from bot.storage.webhooks import WebhookRepo

R = TypeVar("R")


class _Repo(Generic[R]):
    """A unit of work's repository, made on its first use in the transaction: a Claim uses three
    of the twenty-one, and making them all took 15 µs of every transaction."""

    def __init__(self, repo: Callable[[AsyncSession], R]) -> None:
        self._repo = repo

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, uow: None, owner: type) -> _Repo[R]: ...
    @overload
    def __get__(self, uow: UnitOfWork, owner: type) -> R: ...
    def __get__(self, uow: UnitOfWork | None, owner: type) -> _Repo[R] | R:
        if uow is None:
            return self
        repo = self._repo(uow.session)
        uow.__dict__[self._name] = repo  # the instance's own attribute from now on
        return repo


def _end(session: Session, commit: bool) -> None:
    """Commit (or roll back) the session's transaction and close it, in SQLAlchemy's greenlet."""
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


class Conflict(Exception):
    """A unique constraint refused a write made in a savepoint (a concurrent writer got there first);
    the savepoint's writes are rolled back, the transaction goes on."""


class UnitOfWork:
    session: AsyncSession

    leads = _Repo(LeadRepo)
    events = _Repo(EventRepo)
    outbox = _Repo(OutboxRepo)
    rules = _Repo(RuleRepo)
    routing = _Repo(RoutingRepo)
    members = _Repo(MemberRepo)
    settings = _Repo(SettingRepo)
    setting_audit = _Repo(SettingAuditRepo)
    slots = _Repo(SlotRepo)
    keys = _Repo(KeyRepo)
    installations = _Repo(InstallationRepo)
    api_tokens = _Repo(ApiTokenRepo)
    discussions = _Repo(DiscussionRepo)
    sla_checks = _Repo(SlaCheckRepo)
    targets = _Repo(TargetRepo)
    metric_reports = _Repo(MetricReportRepo)
    webhooks = _Repo(WebhookRepo)
    crm_records = _Repo(CrmRecordRepo)
    reports = _Repo(Reports)
    batches = _Repo(BatchRepo)
    retention = _Repo(RetentionRepo)

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = session_factory

    async def __aenter__(self) -> UnitOfWork:
        if in_background():
            await room_for_background(self._factory)
        # no explicit begin(): the session begins its transaction at its first statement (a trip
        # to SQLAlchemy's greenlet fewer; a unit of work that runs none never takes a connection)
        self.session = self._factory()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # one trip to SQLAlchemy's greenlet (AsyncSession's commit() and close() are one each)
        await greenlet_spawn(_end, self.session.sync_session, exc_type is None)

    @property
    def queued(self) -> frozenset[QueuedFor]:
        """Where this transaction queued outbox rows (none when it never used its outbox)."""
        outbox: OutboxRepo | None = self.__dict__.get("outbox")
        return frozenset(outbox.queued) if outbox is not None else frozenset()

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Writes inside stand or fall together; a unique violation rolls them back and raises
        Conflict, leaving the rest of the transaction intact."""
        raw = raw_sql(self.session)
        await raw.send_deferred()  # what was queued before is not the savepoint's to roll back
        before = len(raw.deferred)
        try:
            async with self.session.begin_nested():
                yield
                await raw.send_deferred()  # inside the savepoint: its writes stand or fall with it
        except IntegrityError as exc:
            raw.forget_deferred(before)
            raise Conflict(str(exc.orig)) from exc
        except BaseException:
            raw.forget_deferred(before)
            raise

    def others_waiting(self) -> bool:
        """Another unit of work waits for a database connection (on SQLite: for ours, the only
        one); long work should commit soon and give way."""
        bind = self.session.bind
        return isinstance(bind, AsyncEngine) and connections_wanted(bind)

    async def flush(self) -> None:
        """Write pending changes now (constraints checked, ids assigned) without committing."""
        await self.session.flush()
        await raw_sql(self.session).send_deferred()

    async def commit(self) -> None:
        """Commit now; the next statement begins a new transaction (for work that must be visible
        early)."""
        await self.session.commit()
