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
                    # held here: the session's identity map keeps rows only while someone does,
                    # and a get per row found none and read each one again
                    rows = {
                        row.id: row for row in await uow.outbox.get_many([snap.id for snap, _ in results])
                    }
                    notifier = Notifier(uow.outbox, now=now, admins=partial(self._admins_of, uow))
                    sent: list[tuple[Outbox, Outcome]] = []
                    for snap, outcome in results:
                        with log_context(outbox_id=snap.id, lead_id=snap.lead_id, team_id=snap.team_id):
                            row = rows.get(snap.id)
                            if await self._record(notifier, row, outcome, now) and row is not None:
                                sent.append((row, outcome))
                    # then what each post became (a card's ts on its lead): after every row's
                    # status, so the first of these statements flushes them all in one go, not
                    # one flush per row between two of them
                    for row, outcome in sent:
                        with log_context(outbox_id=row.id, lead_id=row.lead_id, team_id=row.team_id):
                            await self.renderers.record_sent(uow, row, outcome)
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

    async def _record(self, notifier: Notifier, row: Outbox | None, outcome: Outcome, now: datetime) -> bool:
        """The row's new state; True when it was sent (its renderer then records what it became)."""
        if row is None or row.status != OutboxStatus.SENDING or row.claimed_by != self.instance_id:
            return False  # our lease ran out and another instance owns it now
        row.claimed_until = None
        metrics.deliveries.labels(metrics.lane(row.purpose), outcome.result.value).inc()
        if outcome.result is Result.RELEASE:
            row.status, row.attempts = OutboxStatus.PENDING, row.attempts - 1
            return False
        if outcome.result is Result.SENT:
            row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, None
            row.result_ts, row.result_channel = outcome.ts, outcome.channel
            if row.purpose == Purpose.LEAD_CARD:
                # the card row is written with the lead: its age is the lead's, arrival → visible
                metrics.lead_visible_seconds.observe(metrics.seconds_between(row.created_at, now))
            return True
        row.last_error = outcome.error
        if outcome.result is Result.WAIT:
            row.attempts -= 1
        # an event keeps trying until its endpoint is disabled (HANDOFF_WEBHOOK_DISABLE_HOURS)
        too_old = row.purpose != Purpose.WEBHOOK and now - aware(row.created_at) > self.give_up_after()
        if outcome.result in (Result.RETRY, Result.WAIT) and outcome.retry_in is not None and not too_old:
            row.status = OutboxStatus.PENDING
            row.next_attempt_at = now + timedelta(seconds=outcome.retry_in)
            return False
        row.status = OutboxStatus.FAILED
        log.warning("outbox row %s (%s) failed for good: %s", row.id, row.method, outcome.error)
        # an endpoint alerts once, when disabled; a CRM once, when it refuses the token
        if row.purpose not in (Purpose.ALERT, Purpose.WEBHOOK, Purpose.CRM_SYNC):
            await notifier.alert_admins(row.team_id, _alert_text(row, outcome.error or "unknown error"))
        return False


def _alert_text(row: Outbox, error: str) -> str:
    what = (
        "The lead is safe in Handoff; fix the channel, then `/handoff status retry` posts it."
        if row.lead_id
        else ""
    )
    where = f"<#{row.channel_id}>" if row.channel_id and row.channel_id[0] in "CG" else "a conversation"
    return ALERT_DELIVERY_FAILED.format(channel=where, error=escape(error), what=what).strip()


class Recorder:
    """Outcomes wait here for a moment and are written by one task at a time, many at once.

    The moment is `linger` seconds (or until `batch` outcomes wait, or someone flushes): one
    channel's rows go out one call at a time, so without it each outcome came alone and had a
    transaction of its own (bench.recording: 2.4 ms of CPU for a batch of one outcome, 0.5 ms an
    outcome in a batch of ten). A row waiting here is still "sending", as it is while its call is
    on the wire: a crash now leaves it to the lease and the lookup, which finds the post, so
    nothing goes out twice."""

    def __init__(
        self, write: Callable[[Results], Awaitable[None]], *, linger: float = 0.02, batch: int = 50
    ) -> None:
        self.write = write
        self.linger = linger
        self.batch = batch
        self.pending: Results = []
        self.task: asyncio.Task[None] | None = None
        self._wake: asyncio.Future[None] | None = None  # set while the task lingers
        self._flushing = 0

    def add(self, row: RowSnapshot, outcome: Outcome) -> None:
        self.pending.append((row, outcome))
        if len(self.pending) >= self.batch:
            self._hurry()
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self.pending:
            if not self._flushing and len(self.pending) < self.batch:
                self._wake = loop.create_future()
                timer = loop.call_later(self.linger, _wake_up, self._wake)
                try:
                    await self._wake
                finally:
                    timer.cancel()
                    self._wake = None
            batch, self.pending = self.pending, []
            try:
                await self.write(batch)
            except Exception as exc:
                # those rows stay "sending" until their lease runs out; then the lookup finds
                # whatever was posted, so nothing goes out twice
                log.warning("outbox: %d outcomes were not recorded: %s", len(batch), short_error(exc))

    def _hurry(self) -> None:
        if self._wake is not None:
            _wake_up(self._wake)

    async def flush(self) -> None:
        """Return once everything added so far is written (or given up on), without lingering."""
        self._flushing += 1
        try:
            self._hurry()
            while self.task is not None and not self.task.done():
                await asyncio.shield(self.task)
        finally:
            self._flushing -= 1


def _wake_up(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
