"""The outbox sender: claims due rows, renders them, queues them per channel (one worker task a
channel, so a card goes before its updates and replies), delivers and records. Several instances
share the work: claiming uses FOR UPDATE SKIP LOCKED on PostgreSQL, and each claim is a lease."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import logging
import random
import time
from collections.abc import Callable, Collection
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.domain.outbox import Lane, Purpose, QueuedFor
from bot.observability.logs import log_context
from bot.outbox.delivery import Delivery
from bot.outbox.outcome import Backoff, Call, Outcome, Result, RowSnapshot, short_error
from bot.outbox.pacing import Pacer, Stopping
from bot.outbox.recording import OutcomeWriter, Recorder
from bot.outbox.rendering import Renderers
from bot.slack.clients import SlackClients
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# a row's place in its channel's queue: (rank_at as a timestamp, the row it follows, its own id)
Place = tuple[float, int, int]
Queued = tuple[Place, RowSnapshot, Call | Outcome, float]


def _place(row: RowSnapshot) -> Place:
    rank = row.rank_at or row.created_at
    return (rank.timestamp(), row.id, 0)


class OutboxSender:
    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        clients: SlackClients,
        clock: Clock,
        instance_id: str,
        renderers: Renderers,
        admins: tuple[str, ...] = (),
        pacer: Pacer | None = None,
        batch_size: int = 50,
        lease: timedelta = timedelta(seconds=60),
        call_timeout: float = 10.0,
        give_up_after: timedelta = timedelta(hours=6),
        max_backoff: float = 300.0,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        pass_gap: float = 0.05,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.instance_id = instance_id
        self.renderers = renderers
        self.pacer = pacer or Pacer()
        self.batch_size = batch_size
        self.lease = lease
        self.give_up_after = give_up_after
        self.backoff = Backoff(max_seconds=max_backoff, rng=rng or random.Random())
        self.monotonic = monotonic
        self.delivery = Delivery(
            clients=clients, pacer=self.pacer, backoff=self.backoff, call_timeout=call_timeout
        )
        self.writer = OutcomeWriter(
            session_factory=session_factory,
            clock=clock,
            instance_id=instance_id,
            renderers=renderers,
            admins=admins,
            give_up_after=lambda: self.give_up_after,
        )
        # A commit that queues a row wakes the sender (unless the row can only wait: `wake`).
        # Under load, one claiming pass per `pass_gap` serves all the commits since the last: a
        # pass per commit was a query per request, and one that scans the backlog of paced
        # channels (benchmark: 2 ms a click).
        self.pass_gap = pass_gap
        self._last_pass = float("-inf")
        self._wake = asyncio.Event()
        self._room = asyncio.Event()  # set when a row leaves the queues: there is room to claim more
        # claimed rows waiting for their turn, per channel, each channel with one worker task; a
        # heap in line order (lane, then age), so a hot card claimed after a bulk queue filled up
        # goes next, not after it
        self._queues: dict[str, list[Queued]] = {}
        # per channel: the place in line of each lead card still queued, so the card's updates and
        # replies line up behind it whatever their lane
        self._cards: dict[str, dict[int, Place]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        # per channel, set when a row queued ahead of the one its worker is waiting to send: a hot
        # card arriving while the worker waits for a bulk edit's share of Slack's budget goes first
        self._ahead: dict[str, asyncio.Event] = {}
        # rows waiting in the queues, by id, with when they were (last) claimed: a row that waits
        # here past its lease (Slack slow to answer the rows before it) is claimed again by this
        # very instance; it must renew the lease of the queued row, not queue it a second time
        self._claimed: dict[int, float] = {}
        self._in_flight = 0
        # looked up at each write, so a test can stand in for the database
        self._recorder = Recorder(lambda results: self.writer.write(results))

    @property
    def max_backoff(self) -> float:
        return self.backoff.max_seconds

    @property
    def sent_count(self) -> int:
        return self.writer.sent_count

    @property
    def found_count(self) -> int:
        """Rows found already posted after a crash or a lost answer."""
        return self.delivery.found_count

    def wake(self, queued: Collection[QueuedFor] | None = None) -> None:
        """Called after a commit that queued rows (`queued`: where, if known), so they go out now
        rather than at the next poll. Rows only for channels whose queue here is full, in lanes
        that wait their turn, call for no pass: the pass that follows a sent row (`_room`) takes
        them in line, and one now would walk that channel's whole backlog in ix_outbox_rank to
        claim nothing, up to 20 times a second (bench.backlog: 19 passes a second → 1)."""
        if queued is None or any(self._worth_a_pass(channel, lane) for channel, lane in queued):
            self._wake.set()

    def _worth_a_pass(self, channel: str | None, lane: Lane) -> bool:
        full = channel is not None and len(self._queues.get(channel, ())) >= self._channel_cap()
        return not full or lane <= Lane.HOT

    async def run(self, stop: asyncio.Event, idle_poll: float = 1.0) -> None:
        """Claim and send until `stop`. Claiming does not wait for a pass to finish: while channels
        are still sending, more rows are claimed and rendered as soon as a quarter of a batch has gone (at
        most a batch in flight), so a slow channel never holds the others back and no channel's
        queue runs dry."""
        self.pacer.stop = stop
        try:
            while not stop.is_set():
                claimed = 0
                await self._space_out(stop)
                if stop.is_set():
                    break
                try:
                    if self._in_flight <= self._low_water:
                        claimed = await self._claim_and_queue(self.batch_size - self._in_flight)
                    else:
                        # the queues hold a batch already: still take what must not wait behind
                        # it (hot leads, what a person waits for), a short index range
                        claimed = await self._claim_and_queue(self.batch_size, urgent_only=True)
                except Exception as exc:  # the loop must survive a database outage
                    log.warning("outbox pass failed, retrying: %s", short_error(exc))
                if claimed and self._in_flight <= self._low_water:
                    continue  # more may be due at once
                self._wake.clear()
                self._room.clear()
                waiters = {
                    asyncio.ensure_future(self._wake.wait()),
                    asyncio.ensure_future(stop.wait()),
                }
                if self._in_flight:
                    waiters.add(asyncio.ensure_future(self._room.wait()))
                await asyncio.wait(waiters, timeout=idle_poll, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
        finally:
            await self._settle_all()

    async def _space_out(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        wait = self._last_pass + self.pass_gap - loop.time()
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
        self._last_pass = loop.time()

    async def drain(self, max_passes: int = 10_000) -> int:
        """Send everything due now (tests and shutdown); returns how many rows were handled."""
        total = 0
        for _ in range(max_passes):
            handled = await self.send_due()
            if handled == 0:
                break
            total += handled
        return total

    async def send_due(self) -> int:
        """One pass: claim a batch, send it, and return once every row of it is recorded."""
        claimed = await self._claim_and_queue(self.batch_size)
        await self._settle_all()
        return claimed

    async def _claim_and_queue(self, limit: int, *, urgent_only: bool = False) -> int:
        """Claim up to `limit` due rows, render them in one transaction, queue them per channel;
        `urgent_only`: only rows of the lanes that go past full queues (hot leads, a person waiting)."""
        now = self.clock.now()
        full = [key for key, queue in self._queues.items() if len(queue) >= self._channel_cap()]
        async with UnitOfWork(self.session_factory) as uow:
            rows = await uow.outbox.claim_due(
                now=now,
                instance=self.instance_id,
                lease=self.lease,
                limit=limit,
                skip_channels=full,
                max_lane=Lane.HOT if urgent_only else None,
            )
            snapshot = [RowSnapshot.of(row) for row in rows]
        if not snapshot:
            return 0
        claimed_at = self.monotonic()
        again = [row for row in snapshot if row.id in self._claimed]
        for row in again:
            self._claimed[row.id] = claimed_at  # still queued here: its lease runs from now
        snapshot = [row for row in snapshot if row.id not in self._claimed]
        if not snapshot:
            return len(again)
        calls = await self.renderers.render(snapshot, self._render_failed)
        # cards first: a card's update claimed in the same pass must find the card's place
        for row in sorted(snapshot, key=lambda r: r.purpose is not Purpose.LEAD_CARD):
            key = row.channel_id or f"row:{row.id}"
            cards = self._cards.setdefault(key, {})
            place = _place(row)
            if row.lead_id is not None:
                if row.purpose is Purpose.LEAD_CARD:
                    cards[row.lead_id] = place
                elif row.lead_id in cards and cards[row.lead_id] > place:
                    card = cards[row.lead_id]
                    place = (card[0], card[1], row.id)
            queue = self._queues.setdefault(key, [])
            heapq.heappush(queue, (place, row, calls[row.id], claimed_at))
            if queue[0][1] is row and key in self._ahead:
                self._ahead[key].set()
            self._claimed[row.id] = claimed_at
            self._in_flight += 1
            if key not in self._workers:
                self._workers[key] = asyncio.create_task(self._channel_worker(key))
        return len(snapshot) + len(again)

    @property
    def _low_water(self) -> int:
        # claim again once a quarter of the batch has gone: the next rows are rendered while the
        # rest still go out, and never more than a batch is in flight (what a crash leaves to
        # lookups, as before the sender claimed ahead)
        return self.batch_size * 3 // 4

    def _channel_cap(self) -> int:
        # rows queued for one channel must all go out well within their lease (at 1 message a
        # second and a 60 s lease: 15); a channel with that many waiting gets no more until they
        # have gone, so the batch goes to the other channels' rows instead
        return max(1, int(self.pacer.rate * self.lease.total_seconds() / 4))

    async def _settle_all(self) -> None:
        """Wait until every queued row is sent (or handed back) and its outcome recorded."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)
        await self._recorder.flush()

    async def _channel_worker(self, key: str) -> None:
        # one channel's rows go in order, one call at a time: a card before its updates and replies
        queue = self._queues[key]
        try:
            while queue:
                # wait for the channel's turn first, then take the best row queued by then
                if not await self._turn(key, queue[0][1]):
                    continue  # a row queued ahead meanwhile: wait for its turn instead
                _, row, call, claimed_at = heapq.heappop(queue)
                claimed_at = self._claimed.pop(row.id, claimed_at)
                if row.purpose is Purpose.LEAD_CARD and row.lead_id is not None:
                    self._cards.get(key, {}).pop(row.lead_id, None)
                # lines logged while sending say which row, lead and workspace they are about
                with log_context(outbox_id=row.id, lead_id=row.lead_id, team_id=row.team_id):
                    try:
                        if isinstance(call, Outcome) and call.result is Result.WAIT:
                            # the post it needs may have gone out just now, earlier in this queue
                            await self._recorder.flush()
                            call = (await self.renderers.render([row], self._render_failed))[row.id]
                        if isinstance(call, Outcome):
                            outcome = call
                        else:
                            outcome = await self.delivery.attempt(
                                row, call, functools.partial(self._lease_left, claimed_at)
                            )
                    except Exception as exc:  # e.g. the database went away while rendering the card
                        outcome = Outcome.retry(self.backoff(row.attempts), short_error(exc))
                self._recorder.add(row, outcome)
                self._in_flight -= 1
                if self._in_flight <= self._low_water:
                    self._room.set()
        finally:
            del self._workers[key]
            self._ahead.pop(key, None)
            if not queue:
                self._queues.pop(key, None)
                self._cards.pop(key, None)

    async def _turn(self, key: str, head: RowSnapshot) -> bool:
        """Wait for the head row's turn (its channel's, or its share of the workspace's budget for
        a method); False when a row was queued ahead of it meanwhile, whose turn may come sooner."""
        ahead = self._ahead[key] = asyncio.Event()
        turn = asyncio.ensure_future(
            self.pacer.wait_turn(head.team_id, head.method, head.channel_id, head.lane)
        )
        jumped = asyncio.ensure_future(ahead.wait())
        try:
            await asyncio.wait({turn, jumped}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # the worker is cancelled: leave no wait behind
            turn.cancel()
            raise
        finally:
            jumped.cancel()
        if not turn.done():
            turn.cancel()
            with contextlib.suppress(asyncio.CancelledError, Stopping):
                await turn
            return False
        with contextlib.suppress(Stopping):
            turn.result()
        return True

    def _lease_left(self, claimed_at: float) -> float:
        return self.lease.total_seconds() - (self.monotonic() - claimed_at)

    def _render_failed(self, row: RowSnapshot, exc: BaseException) -> Outcome:
        return Outcome.retry(self.backoff(row.attempts), short_error(exc))
