"""The outbox sender: claims queued Slack writes, paces them per channel, retries, records ts."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.messages import ALERT_DELIVERY_FAILED
from bot.services.reasons import reject_reasons
from bot.slack import notifier as purposes
from bot.slack.blocks.lead_card import lead_card
from bot.slack.clients import NoInstallation, SlackClients
from bot.slack.discussion_outbox import prepare_discussion_row, record_discussion_ts
from bot.slack.mrkdwn import escape
from bot.storage.models import Lead, Outbox, RoutingRule
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# Errors retrying cannot fix: the row fails at once and admins hear about it.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "invalid_arguments",
        "msg_too_long",
        "no_text",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "message_not_found",
        "cant_update_message",
        "user_not_found",
        "channel_is_archived",
        "restricted_action",
    }
)
# posts whose ts the referenced row (ref_table/ref_id) keeps, so replies and edits can find them
RECORDS_TS = frozenset({purposes.DISCUSSION_PROMPT, purposes.DISCUSSION_ANSWER})
LEAD_PURPOSES = frozenset({purposes.LEAD_CARD, purposes.LEAD_CARD_UPDATE, purposes.LEAD_THREAD})
WAITING_FOR_CARD = "waiting for the card"


class TokenBucket:
    """About `rate` calls a second with bursts of `burst`."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.capacity = rate, burst
        self.tokens, self.updated = burst, now

    def wait_time(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        wait = (1 - self.tokens) / self.rate
        self.tokens -= 1  # reserve: the caller sleeps, then sends
        return wait


# Slack's Web API tiers, per workspace and method: (calls per second, burst).
# https://api.slack.com/apis/rate-limits — Tier 2 20+/min, Tier 3 50+/min, Tier 4 100+/min.
TIER_LIMITS: dict[str, tuple[float, float]] = {
    "tier2": (20 / 60, 4),
    "tier3": (50 / 60, 10),
    "tier4": (100 / 60, 20),
}
METHOD_TIERS: dict[str, str] = {
    "chat.update": "tier3",
    "chat.delete": "tier3",
    "conversations.history": "tier3",
    "conversations.replies": "tier3",
    "conversations.open": "tier3",
    "reactions.add": "tier3",
    "chat.postEphemeral": "tier4",
    "chat.getPermalink": "tier4",
    "views.publish": "tier4",
    "views.update": "tier4",
    "users.info": "tier4",
    "files.getUploadURLExternal": "tier4",
    "files.completeUploadExternal": "tier4",
}
# chat.postMessage has its own rule: about one message a second per channel, short bursts allowed.
POST_METHOD = "chat.postMessage"
PACER_RESERVE = 1.0  # see Pacer.reserve


@dataclass
class Pacer:
    """Token buckets: one per channel for chat.postMessage (`rate`/`burst`, HANDOFF_CHANNEL_RATE and
    HANDOFF_CHANNEL_BURST), one per workspace and method for everything else, by Slack's tier.
    Each instance paces itself; a 429 from Slack (several instances together) still blocks the key."""

    rate: float = 1.0
    burst: float = 3.0
    # tokens of a channel's burst held back: a call that leaves on its turn can still reach Slack a
    # few ms late (a pause in this process, the network), arriving closer to the next than we spaced
    # them; Slack's bucket, capped at the same burst, then answers 429 and blocks the channel for a
    # second. One spare token absorbs up to 1/rate of such lateness (PACER_RESERVE in the app).
    reserve: float = 0.0
    tiers: dict[str, tuple[float, float]] | None = field(default_factory=lambda: dict(TIER_LIMITS))
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    buckets: dict[str, TokenBucket] = field(default_factory=dict)
    blocked_until: dict[str, float] = field(default_factory=dict)
    # set when the sender is told to stop: a wait for a turn ends at once (raising Stopping), so
    # shutdown does not sit out the pacing of rows that can just as well go after the restart
    stop: asyncio.Event | None = None

    @classmethod
    def unlimited(cls) -> Pacer:
        """No pacing at all (tests that send bursts; pacing has its own tests)."""
        return cls(rate=1e9, burst=1e9, tiers=None)

    def key_for(self, team_id: str, method: str, channel: str | None) -> tuple[str, float, float] | None:
        if method == POST_METHOD:
            return f"{team_id}:{channel or '-'}:post", self.rate, max(1.0, self.burst - self.reserve)
        if self.tiers is None:
            return None
        rate, burst = self.tiers[METHOD_TIERS.get(method, "tier3")]
        return f"{team_id}:{method}", rate, burst

    async def acquire_call(self, team_id: str, method: str, channel: str | None) -> str | None:
        """Wait for a turn for this call; returns the key a 429 should block."""
        spec = self.key_for(team_id, method, channel)
        if spec is None:
            return None
        key, rate, burst = spec
        await self.acquire(key, rate=rate, burst=burst)
        return key

    async def acquire(self, key: str, *, rate: float | None = None, burst: float | None = None) -> None:
        now = self.monotonic()
        hold = self.blocked_until.get(key, 0.0) - now
        if hold > 0:
            await self._pause(hold)
            now = self.monotonic()
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = TokenBucket(rate or self.rate, burst or self.burst, now)
        wait = bucket.wait_time(now)
        if wait > 0:
            await self._pause(wait)

    async def _pause(self, seconds: float) -> None:
        if self.stop is None:
            await self.sleep(seconds)
            return
        if self.stop.is_set():
            raise Stopping
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        stopper = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()
        if self.stop.is_set():
            raise Stopping

    def block(self, key: str, seconds: float) -> None:
        """Slack said 429: nothing more to this key until Retry-After has passed."""
        self.blocked_until[key] = max(self.blocked_until.get(key, 0.0), self.monotonic() + seconds)


class Stopping(Exception):
    """The sender is stopping while a row waits for its turn: the row goes back to the queue."""


@dataclass
class Outcome:
    ok: bool
    retry_in: float | None = None  # seconds; None with ok=False means give up now
    error: str | None = None
    ts: str | None = None
    channel: str | None = None
    count_attempt: bool = True
    release: bool = False  # not attempted: hand the row back untouched (lease nearly over)


# Our mark on every chat.postMessage: after a crash between Slack's "ok" and recording the ts, the
# next attempt finds the message by this and records it instead of posting a second copy.
METADATA_EVENT = "handoff_outbox"
LOOKUP_MARGIN = timedelta(minutes=10)  # clock skew between us and Slack
LOOKUP_PAGES = 15
LEASE_EXPIRED = "lease expired"
LOOKUP_ERROR = "while checking for an earlier post: "
_DB_RETRY_DELAYS = (0.2, 0.5, 1, 2, 3, 5, 5, 5, 5, 5, 5, 5, 5, 10, 10)  # about a minute in all


class OutboxSender:
    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        clients: SlackClients,
        clock: Clock,
        instance_id: str,
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
        self.clients = clients
        self.clock = clock
        self.instance_id = instance_id
        self.admins = admins
        self.pacer = pacer or Pacer()
        self.batch_size = batch_size
        self.lease = lease
        self.call_timeout = call_timeout
        self.give_up_after = give_up_after
        self.max_backoff = max_backoff
        self.rng = rng or random.Random()
        self.monotonic = monotonic
        # Every commit that queues a row wakes the sender. Under load, one claiming pass per
        # `pass_gap` serves all the commits since the last: a pass per commit was a query per
        # request, and one that scans the backlog of paced channels (benchmark: 2 ms a click).
        self.pass_gap = pass_gap
        self._last_pass = float("-inf")
        self._wake = asyncio.Event()
        self._room = asyncio.Event()  # set when a row leaves the queues: there is room to claim more
        # claimed rows waiting for their turn, per channel, each channel with one worker task
        self._queues: dict[str, deque[tuple[_RowSnapshot, tuple[str, dict[str, Any]] | Outcome, float]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._in_flight = 0
        self._recorder = _Recorder(lambda results: self._record_batch(results))
        self.sent_count = 0
        self.found_count = 0  # rows found already posted after a crash or a lost answer

    def wake(self) -> None:
        """Called after a commit that queued rows, so they go out now rather than at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, idle_poll: float = 1.0) -> None:
        """Claim and send until `stop`. Claiming does not wait for a pass to finish: while channels
        are still sending, more rows are claimed and rendered as soon as a quarter of a batch has gone (at
        most a batch in flight), so a slow channel never holds the others back and no channel's
        queue runs dry."""
        self.pacer.stop = stop
        try:
            while not stop.is_set():
                claimed = 0
                if self._in_flight <= self._low_water:
                    await self._space_out(stop)
                    if stop.is_set():
                        break
                    try:
                        claimed = await self._claim_and_queue(self.batch_size - self._in_flight)
                    except Exception as exc:  # the loop must survive a database outage
                        log.warning("outbox pass failed, retrying: %s", _short(exc))
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

    async def _claim_and_queue(self, limit: int) -> int:
        """Claim up to `limit` due rows, render them in one transaction, queue them per channel."""
        now = self.clock.now()
        full = [key for key, queue in self._queues.items() if len(queue) >= self._channel_cap()]
        async with UnitOfWork(self.session_factory) as uow:
            rows = await uow.outbox.claim_due(
                now=now, instance=self.instance_id, lease=self.lease, limit=limit, skip_channels=full
            )
            snapshot = [_RowSnapshot.of(row) for row in rows]
        if not snapshot:
            return 0
        claimed_at = self.monotonic()
        calls = await self._prepare_many(snapshot)
        for row in snapshot:
            key = row.channel_id or f"row:{row.id}"
            self._queues.setdefault(key, deque()).append((row, calls[row.id], claimed_at))
            self._in_flight += 1
            if key not in self._workers:
                self._workers[key] = asyncio.create_task(self._channel_worker(key))
        return len(snapshot)

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
                row, call, claimed_at = queue.popleft()
                try:
                    if _waits_for_a_post(call):
                        # the post it needs may have gone out just now, earlier in this queue
                        await self._recorder.flush()
                        call = (await self._prepare_many([row]))[row.id]
                    outcome = await self._attempt(row, claimed_at, call)
                except Exception as exc:  # e.g. the database went away while rendering the card
                    outcome = Outcome(ok=False, retry_in=self._backoff(row.attempts), error=_short(exc))
                self._recorder.add(row, outcome)
                self._in_flight -= 1
                if self._in_flight <= self._low_water:
                    self._room.set()
        finally:
            del self._workers[key]
            if not queue:
                self._queues.pop(key, None)

    def _lease_left(self, claimed_at: float) -> float:
        return self.lease.total_seconds() - (self.monotonic() - claimed_at)

    async def _attempt(
        self, row: _RowSnapshot, claimed_at: float, call: tuple[str, dict[str, Any]] | Outcome
    ) -> Outcome:
        if isinstance(call, Outcome):
            return call
        method, args = call
        try:
            client = await self.clients.outbox(row.team_id)
        except NoInstallation:
            return Outcome(ok=False, error="no installation for this workspace")
        if method == POST_METHOD and row.may_have_been_sent:
            # an earlier attempt may have reached Slack without us hearing back: look before posting
            found = await self._find_posted(client, row, args, claimed_at)
            if found is not None:
                return found
        try:
            pace_key = await self.pacer.acquire_call(
                row.team_id, method, args.get("channel") or row.channel_id
            )
        except Stopping:
            return Outcome(ok=False, release=True)  # not sent: pending again, attempt not counted
        if self._lease_left(claimed_at) < self.call_timeout + 2:
            # another instance may take the row over before our answer could be recorded (the
            # answer is written with others of its pass, a moment after it arrives)
            return Outcome(ok=False, release=True)
        if row.purpose == purposes.FILE_UPLOAD:
            outcome, data = await self._call(lambda: _upload(client, args), pace_key, row.attempts)
        else:
            outcome, data = await self._call(
                lambda: client.api_call(method, json=args), pace_key, row.attempts
            )
        return Outcome(ok=True, ts=data.get("ts"), channel=data.get("channel")) if outcome.ok else outcome

    async def _call(
        self,
        send: Callable[[], Awaitable[Any]],
        pace_key: str | None,
        attempts: int,
    ) -> tuple[Outcome, dict[str, Any]]:
        """One Web API call; (Outcome(ok=True), response data) or (what went wrong, {})."""
        try:
            response = await send()
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error") or f"http_{status}")
            if status == 429:
                headers = exc.response.headers or {}
                retry_after = _seconds(headers.get("Retry-After", headers.get("retry-after", 1)))
                if pace_key is not None:
                    self.pacer.block(pace_key, retry_after)
                return Outcome(ok=False, retry_in=retry_after, error="ratelimited"), {}
            if error in PERMANENT_ERRORS:
                return Outcome(ok=False, error=error), {}
            return Outcome(ok=False, retry_in=self._backoff(attempts), error=error), {}
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            # Slack may still be working on it: look (and maybe post again) only once it must be done
            retry_in = max(self._backoff(attempts), self.call_timeout)
            return Outcome(ok=False, retry_in=retry_in, error=_short(exc) or "timeout"), {}
        except (aiohttp.ClientError, ConnectionError, OSError) as exc:
            return Outcome(ok=False, retry_in=self._backoff(attempts), error=_short(exc)), {}
        data = getattr(response, "data", response)  # _upload answers with a plain dict
        return Outcome(ok=True), dict(data) if isinstance(data, dict) else {}

    async def _find_posted(
        self, client: Any, row: _RowSnapshot, args: dict[str, Any], claimed_at: float
    ) -> Outcome | None:
        """The message this row posted earlier, if Slack has it (found by our metadata mark).
        None means "not there: post it"; an Outcome means "found" or "could not look: retry"."""
        channel = str(args.get("channel") or "")
        if channel[:1] in ("U", "W"):
            # a DM addressed by user ID: history needs the IM's channel ID
            key = await self.pacer.acquire_call(row.team_id, "conversations.open", None)
            user = channel
            outcome, opened = await self._call(
                lambda: client.conversations_open(users=user), key, row.attempts
            )
            if not outcome.ok:
                return self._lookup_failed(outcome, row)
            channel = str((opened.get("channel") or {}).get("id") or "")
        thread_ts = args.get("thread_ts")
        method = "conversations.replies" if thread_ts else "conversations.history"
        fetch = client.conversations_replies if thread_ts else client.conversations_history
        oldest = (row.created_at - LOOKUP_MARGIN).timestamp()
        query: dict[str, Any] = {
            "channel": channel,
            "oldest": f"{max(oldest, 0):.6f}",
            "include_all_metadata": True,
            "limit": 200,
        }
        if thread_ts:
            query["ts"] = thread_ts
        for _ in range(LOOKUP_PAGES):
            key = await self.pacer.acquire_call(row.team_id, method, channel)
            args_now = dict(query)
            outcome, page = await self._call(lambda a=args_now: fetch(**a), key, row.attempts)
            if not outcome.ok:
                return self._lookup_failed(outcome, row)
            for message in page.get("messages") or []:
                if _is_ours(message, row.id):
                    log.info("outbox row %s was already posted (%s); recording it", row.id, message.get("ts"))
                    self.found_count += 1
                    return Outcome(ok=True, ts=message.get("ts"), channel=channel)
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return None
            query["cursor"] = cursor
            if self._lease_left(claimed_at) < self.call_timeout * 2:
                return Outcome(ok=False, release=True)
        return None

    def _lookup_failed(self, outcome: Outcome, row: _RowSnapshot) -> Outcome:
        """We could not look, so we must not post: retry the whole row later. The error is marked as
        the lookup's, so a 429 here is never mistaken for "Slack did not post" next time."""
        retry_in = outcome.retry_in if outcome.retry_in is not None else self._backoff(row.attempts)
        return Outcome(ok=False, retry_in=retry_in, error=f"{LOOKUP_ERROR}{outcome.error}")

    async def _prepare_many(
        self, rows: list[_RowSnapshot]
    ) -> dict[int, tuple[str, dict[str, Any]] | Outcome]:
        """Build each row's API call; card rows are rendered now (all of them in one transaction),
        so a card never shows stale state."""
        calls: dict[int, tuple[str, dict[str, Any]] | Outcome] = {}
        lead_rows: list[tuple[_RowSnapshot, dict[str, Any]]] = []
        for row in rows:
            args = {k: v for k, v in row.payload.items() if v is not None and k != "render"}
            if row.channel_id:
                args["channel"] = row.channel_id
            if row.method == POST_METHOD and "metadata" not in args:
                args["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"outbox_id": row.id}}
            if row.purpose in purposes.DISCUSSION_PURPOSES:
                try:
                    calls[row.id] = await prepare_discussion_row(self.session_factory, row, args)
                except Exception as exc:
                    calls[row.id] = self._render_failed(row, exc)
            elif row.lead_id is not None and row.purpose in LEAD_PURPOSES:
                lead_rows.append((row, args))
            else:
                calls[row.id] = (row.method, args)
        if not lead_rows:
            return calls
        try:
            async with UnitOfWork(self.session_factory) as uow:
                # two queries load every lead and rule the rows need into the session
                lead_ids = {row.lead_id for row, _ in lead_rows}
                leads = {
                    (lead.team_id, lead.id): lead
                    for lead in await uow.session.scalars(select(Lead).where(Lead.id.in_(lead_ids)))
                }
                rule_ids = {lead.rule_id for lead in leads.values() if lead.rule_id}
                if rule_ids:
                    list(await uow.session.scalars(select(RoutingRule).where(RoutingRule.id.in_(rule_ids))))
                labels: dict[str, dict[str, str]] = {}
                for row, args in lead_rows:
                    if row.team_id not in labels:
                        labels[row.team_id] = await reject_reasons(uow, row.team_id)
                    lead = leads.get((row.team_id, row.lead_id or 0))  # scoped by workspace
                    calls[row.id] = await self._prepare_lead_row(uow, row, args, lead, labels[row.team_id])
        except Exception as exc:  # e.g. the database went away: those rows are retried later
            for row, _ in lead_rows:
                calls[row.id] = self._render_failed(row, exc)
        return calls

    def _render_failed(self, row: _RowSnapshot, exc: BaseException) -> Outcome:
        return Outcome(ok=False, retry_in=self._backoff(row.attempts), error=_short(exc))

    async def _prepare_lead_row(
        self,
        uow: UnitOfWork,
        row: _RowSnapshot,
        args: dict[str, Any],
        lead: Lead | None,
        reasons: dict[str, str],
    ) -> tuple[str, dict[str, Any]] | Outcome:
        if lead is None:
            return Outcome(ok=False, error="lead no longer exists")
        if row.purpose != purposes.LEAD_CARD and lead.message_ts is None:
            # the card is not posted yet: wait for it unless it can never come
            if await uow.outbox.pending_card_post(lead.id) is not None:
                return Outcome(ok=False, retry_in=0.5, error=WAITING_FOR_CARD, count_attempt=False)
            return Outcome(ok=False, error="the lead's card was never posted")
        if row.purpose == purposes.LEAD_THREAD:
            args["channel"] = lead.channel_id
            args["thread_ts"] = lead.message_ts
            return row.method, args
        rule = await uow.session.get(RoutingRule, lead.rule_id) if lead.rule_id else None
        text, blocks = lead_card(lead, rule_name=rule.name if rule else None, reasons=reasons)
        args.update(text=text, blocks=[b.to_dict() for b in blocks])
        if row.purpose == purposes.LEAD_CARD_UPDATE:
            args["channel"], args["ts"] = lead.channel_id, lead.message_ts
            args.pop("metadata", None)
        return row.method, args

    def _backoff(self, attempts: int) -> float:
        base = min(self.max_backoff, 2.0 ** max(0, attempts - 1))
        return base * self.rng.uniform(0.5, 1.5)

    async def _record_batch(self, results: list[tuple[_RowSnapshot, Outcome]]) -> None:
        """Write outcomes, many in one transaction; a database outage must not lose a "sent" (that
        would mean a second post), so keep trying for about a minute before leaving it to the lease
        and the lookup."""
        for delay in (*_DB_RETRY_DELAYS, None):
            try:
                now = self.clock.now()
                async with UnitOfWork(self.session_factory) as uow:
                    ids = [snap.id for snap, _ in results]
                    # one query loads them all; uow.outbox.get then finds each in the session
                    list(await uow.session.scalars(select(Outbox).where(Outbox.id.in_(ids))))
                    for snap, outcome in results:
                        await self._record_in(uow, snap, outcome, now)
                self.sent_count += sum(1 for _, outcome in results if outcome.ok)
                return
            except (DBAPIError, OSError, ConnectionError, TimeoutError) as exc:
                if delay is None:
                    raise
                log.warning("outbox: could not record %d outcomes yet: %s", len(results), _short(exc))
                await asyncio.sleep(delay)

    async def _record_in(self, uow: UnitOfWork, snap: _RowSnapshot, outcome: Outcome, now: datetime) -> None:
        row = await uow.outbox.get(snap.id)
        if row is None or row.status != "sending" or row.claimed_by != self.instance_id:
            return  # our lease ran out and another instance owns it now
        row.claimed_until = None
        if outcome.release:
            row.status, row.attempts = "pending", row.attempts - 1
            return
        if outcome.ok:
            row.status, row.sent_at, row.last_error = "sent", now, None
            row.result_ts, row.result_channel = outcome.ts, outcome.channel
            if row.purpose == purposes.LEAD_CARD and row.lead_id and outcome.ts:
                await uow.leads.set_message(
                    row.team_id,
                    row.lead_id,
                    channel_id=outcome.channel or row.channel_id or "",
                    ts=outcome.ts,
                )
            if row.purpose in RECORDS_TS and row.ref_table and row.ref_id and outcome.ts:
                await record_discussion_ts(uow, row.ref_table, row.ref_id, outcome.ts)
            return
        row.last_error = outcome.error
        if not outcome.count_attempt:
            row.attempts -= 1
        too_old = now - row.created_at > self.give_up_after
        if outcome.retry_in is not None and not too_old:
            row.status = "pending"
            row.next_attempt_at = now + timedelta(seconds=outcome.retry_in)
            return
        row.status = "failed"
        log.warning("outbox row %s (%s) failed for good: %s", row.id, row.method, outcome.error)
        if row.purpose != purposes.ALERT:
            await self._alert(uow, row, outcome.error or "unknown error", now)

    async def _alert(self, uow: UnitOfWork, row: Outbox, error: str, now: datetime) -> None:
        what = (
            "The lead is safe in Handoff; fix the channel, then `/handoff status retry` posts it."
            if row.lead_id
            else ""
        )
        where = f"<#{row.channel_id}>" if row.channel_id and row.channel_id[0] in "CG" else "a conversation"
        text = ALERT_DELIVERY_FAILED.format(channel=where, error=escape(error), what=what).strip()
        for admin in self.admins:
            await uow.outbox.add(
                team_id=row.team_id,
                method="chat.postMessage",
                channel_id=admin,
                payload={"text": text},
                purpose=purposes.ALERT,
                at=now,
            )


class _Recorder:
    """Outcomes wait here for a moment and are written many to a transaction, by one task at a
    time, so sending never waits for the database and the database sees few, larger commits."""

    def __init__(self, write: Callable[[list[tuple[_RowSnapshot, Outcome]]], Awaitable[None]]) -> None:
        self.write = write
        self.pending: list[tuple[_RowSnapshot, Outcome]] = []
        self.task: asyncio.Task[None] | None = None

    def add(self, row: _RowSnapshot, outcome: Outcome) -> None:
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
                log.warning("outbox: %d outcomes were not recorded: %s", len(batch), _short(exc))

    async def flush(self) -> None:
        """Return once everything added so far is written (or given up on)."""
        while self.task is not None and not self.task.done():
            await asyncio.shield(self.task)


def _waits_for_a_post(call: tuple[str, dict[str, Any]] | Outcome) -> bool:
    """The row needs the ts of a post (a card, a prompt, an answer) that was not recorded yet."""
    return (
        isinstance(call, Outcome) and not call.count_attempt and (call.error or "").startswith("waiting for")
    )


@dataclass(frozen=True)
class _RowSnapshot:
    """What the sender needs of a row once its claiming transaction has ended."""

    id: int
    team_id: str
    method: str
    channel_id: str | None
    payload: dict[str, Any]
    purpose: str
    lead_id: int | None
    attempts: int
    created_at: datetime
    last_error: str | None
    ref_table: str | None = None
    ref_id: int | None = None

    @property
    def may_have_been_sent(self) -> bool:
        # a 429 is Slack saying "not done"; any other earlier attempt (timeout, reset, 5xx, a crash
        # that let the lease run out) may have posted the message
        return self.attempts > 1 and self.last_error != "ratelimited"

    @classmethod
    def of(cls, row: Outbox) -> _RowSnapshot:
        return cls(
            id=row.id,
            team_id=row.team_id,
            method=row.method,
            channel_id=row.channel_id,
            payload=dict(row.payload or {}),
            purpose=row.purpose,
            lead_id=row.lead_id,
            attempts=row.attempts,
            created_at=_aware(row.created_at),
            last_error=row.last_error,
            ref_table=row.ref_table,
            ref_id=row.ref_id,
        )


def _is_ours(message: dict[str, Any], row_id: int) -> bool:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != METADATA_EVENT:
        return False
    return str((metadata.get("event_payload") or {}).get("outbox_id")) == str(row_id)


def _seconds(value: Any) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 1.0


def _aware(when: datetime) -> datetime:
    # SQLite hands back naive datetimes; they are UTC
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _short(exc: BaseException) -> str:
    """An error for logs and last_error: its type and first line, never a request body."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


async def _upload(client: Any, args: dict[str, Any]) -> dict[str, Any]:
    """files_upload_v2 does getUploadURLExternal, the upload, then completeUploadExternal."""
    channel = args["channel"]
    if channel[:1] in "UW":  # a person: share it in the bot's DM with them
        opened = await client.conversations_open(users=channel)
        channel = opened["channel"]["id"]
    response = await client.files_upload_v2(
        channel=channel,
        content=base64.b64decode(args["content_b64"]),
        filename=args["filename"],
        title=args.get("title"),
        initial_comment=args.get("initial_comment"),
        alt_txt=args.get("alt_txt"),
    )
    return {"ts": None, "channel": channel, "files": response.get("files")}
