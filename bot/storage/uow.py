"""Unit of work: one transaction, its repositories (writes) and its reports (aggregate reads),
commit on success, rollback on error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.storage.api_tokens import ApiTokenRepo
from bot.storage.batches import BatchRepo
from bot.storage.crm_records import CrmRecordRepo
from bot.storage.db import connections_wanted
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
from bot.storage.targets import MetricReportRepo, TargetRepo
from bot.storage.webhooks import WebhookRepo


class Conflict(Exception):
    """A unique constraint refused a write made in a savepoint (a concurrent writer got there first);
    the savepoint's writes are rolled back, the transaction goes on."""


class UnitOfWork:
    session: AsyncSession

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = session_factory

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._factory()
        await self.session.begin()
        self.leads = LeadRepo(self.session)
        self.events = EventRepo(self.session)
        self.outbox = OutboxRepo(self.session)
        self.rules = RuleRepo(self.session)
        self.routing = RoutingRepo(self.session)
        self.members = MemberRepo(self.session)
        self.settings = SettingRepo(self.session)
        self.setting_audit = SettingAuditRepo(self.session)
        self.slots = SlotRepo(self.session)
        self.keys = KeyRepo(self.session)
        self.installations = InstallationRepo(self.session)
        self.api_tokens = ApiTokenRepo(self.session)
        self.discussions = DiscussionRepo(self.session)
        self.sla_checks = SlaCheckRepo(self.session)
        self.targets = TargetRepo(self.session)
        self.metric_reports = MetricReportRepo(self.session)
        self.webhooks = WebhookRepo(self.session)
        self.crm_records = CrmRecordRepo(self.session)
        self.reports = Reports(self.session)
        self.batches = BatchRepo(self.session)
        self.retention = RetentionRepo(self.session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None:
                await self.session.commit()
            else:
                await self.session.rollback()
        finally:
            await self.session.close()

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
        """Commit now and start a new transaction (for work that must be visible early)."""
        await self.session.commit()
        await self.session.begin()
