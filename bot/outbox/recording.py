"""Recording: what became of each attempt, written many rows to a transaction by one task at a
time, so sending never waits for the database and the database sees few, larger commits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.domain.outbox import OutboxStatus, Purpose
from bot.messages import ALERT_DELIVERY_FAILED
from bot.observability import metrics
from bot.observability.logs import log_context
from bot.outbox.notifier import Notifier
from bot.outbox.outcome import Outcome, Result, RowSnapshot, aware, short_error
from bot.outbox.rendering import Renderers
from bot.slack.mrkdwn import escape
from bot.storage.models import Outbox
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

_DB_RETRY_DELAYS = (0.2, 0.5, 1, 2, 3, 5, 5, 5, 5, 5, 5, 5, 5, 10, 10)  # about a minute in all

Results = list[tuple[RowSnapshot, Outcome]]


class OutcomeWriter:
    """Writes a batch of outcomes to their rows, if this instance still holds them."""

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        instance_id: str,
        renderers: Renderers,
        admins: tuple[str, ...],
        give_up_after: Callable[[], timedelta],
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.instance_id = instance_id
        self.renderers = renderers
        self.admins = admins
        self.give_up_after = give_up_after
        self.sent_count = 0

    async def write(self, results: Sequence[tuple[RowSnapshot, Outcome]]) -> None:
        """A database outage must not lose a "sent" (that would mean a second post), so keep trying
        for about a minute before leaving it to the lease and the lookup."""
        for delay in (*_DB_RETRY_DELAYS, None):
            try:
                now = self.clock.now()
                async with UnitOfWork(self.session_factory) as uow:
                    await uow.outbox.get_many([snap.id for snap, _ in results])
                    notifier = Notifier(uow.outbox, now=now, admins=partial(self._admins_of, uow))
                    for snap, outcome in results:
                        with log_context(outbox_id=snap.id, lead_id=snap.lead_id, team_id=snap.team_id):
                            await self._record(uow, notifier, snap, outcome, now)
                self.sent_count += sum(1 for _, outcome in results if outcome.ok)
                return
            except (DBAPIError, OSError, ConnectionError, TimeoutError) as exc:
                if delay is None:
                    raise
                log.warning("outbox: could not record %d outcomes yet: %s", len(results), short_error(exc))
                await asyncio.sleep(delay)

    async def _admins_of(self, uow: UnitOfWork, team_id: str) -> tuple[str, ...]:
        """Alerts go to the workspace's own admins; HANDOFF_ADMINS when it has none of its own."""
        own = await uow.settings.admins(team_id)
        return own if own is not None else self.admins

    async def _record(
        self, uow: UnitOfWork, notifier: Notifier, snap: RowSnapshot, outcome: Outcome, now: datetime
    ) -> None:
        row = await uow.outbox.get(snap.id)
        if row is None or row.status != OutboxStatus.SENDING or row.claimed_by != self.instance_id:
            return  # our lease ran out and another instance owns it now
        row.claimed_until = None
        metrics.deliveries.labels(metrics.lane(row.purpose), outcome.result.value).inc()
        if outcome.result is Result.RELEASE:
            row.status, row.attempts = OutboxStatus.PENDING, row.attempts - 1
            return
        if outcome.result is Result.SENT:
            row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, None
            row.result_ts, row.result_channel = outcome.ts, outcome.channel
            await self.renderers.record_sent(uow, row, outcome)
            if row.purpose == Purpose.LEAD_CARD:
                # the card row is written with the lead: its age is the lead's, arrival → visible
                metrics.lead_visible_seconds.observe(metrics.seconds_between(row.created_at, now))
            return
        row.last_error = outcome.error
        if outcome.result is Result.WAIT:
            row.attempts -= 1
        # an event keeps trying until its endpoint is disabled (HANDOFF_WEBHOOK_DISABLE_HOURS)
        too_old = row.purpose != Purpose.WEBHOOK and now - aware(row.created_at) > self.give_up_after()
        if outcome.result in (Result.RETRY, Result.WAIT) and outcome.retry_in is not None and not too_old:
            row.status = OutboxStatus.PENDING
            row.next_attempt_at = now + timedelta(seconds=outcome.retry_in)
            return
        row.status = OutboxStatus.FAILED
        log.warning("outbox row %s (%s) failed for good: %s", row.id, row.method, outcome.error)
        # an endpoint alerts once, when disabled; a CRM once, when it refuses the token
        if row.purpose not in (Purpose.ALERT, Purpose.WEBHOOK, Purpose.CRM_SYNC):
            await notifier.alert_admins(row.team_id, _alert_text(row, outcome.error or "unknown error"))


def _alert_text(row: Outbox, error: str) -> str:
    what = (
        "The lead is safe in Handoff; fix the channel, then `/handoff status retry` posts it."
        if row.lead_id
        else ""
    )
    where = f"<#{row.channel_id}>" if row.channel_id and row.channel_id[0] in "CG" else "a conversation"
    return ALERT_DELIVERY_FAILED.format(channel=where, error=escape(error), what=what).strip()


class Recorder:
    """Outcomes wait here for a moment and are written by one task at a time, many at once."""

    def __init__(self, write: Callable[[Results], Awaitable[None]]) -> None:
        self.write = write
        self.pending: Results = []
        self.task: asyncio.Task[None] | None = None

    def add(self, row: RowSnapshot, outcome: Outcome) -> None:
        self.pending.append((row, outcome))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            try:
                await self.write(batch)
            except Exception as exc:
                # those rows stay "sending" until their lease runs out; then the lookup finds
                # whatever was posted, so nothing goes out twice
                log.warning("outbox: %d outcomes were not recorded: %s", len(batch), short_error(exc))

    async def flush(self) -> None:
        """Return once everything added so far is written (or given up on)."""
        while self.task is not None and not self.task.done():
            await asyncio.shield(self.task)
