"""The outbox sender: claims queued Slack writes, paces them per channel, retries, records ts."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.messages import ALERT_DELIVERY_FAILED
from bot.slack import notifier as purposes
from bot.slack.blocks.lead_card import lead_card
from bot.slack.clients import NoInstallation, SlackClients
from bot.slack.discussion_outbox import prepare_discussion_row, record_discussion_ts
from bot.storage.models import Outbox, RoutingRule
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


class TokenBucket:
    """About `rate` messages a second with bursts of `burst` (Slack's ~1/s per channel)."""

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


@dataclass
class Pacer:
    rate: float = 1.0
    burst: float = 5.0
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    buckets: dict[str, TokenBucket] = field(default_factory=dict)
    blocked_until: dict[str, float] = field(default_factory=dict)

    async def acquire(self, key: str) -> None:
        now = self.monotonic()
        hold = self.blocked_until.get(key, 0.0) - now
        if hold > 0:
            await self.sleep(hold)
            now = self.monotonic()
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = TokenBucket(self.rate, self.burst, now)
        wait = bucket.wait_time(now)
        if wait > 0:
            await self.sleep(wait)

    def block(self, key: str, seconds: float) -> None:
        """Slack said 429: nothing more to this key until Retry-After has passed."""
        self.blocked_until[key] = max(self.blocked_until.get(key, 0.0), self.monotonic() + seconds)


@dataclass
class Outcome:
    ok: bool
    retry_in: float | None = None  # seconds; None with ok=False means give up now
    error: str | None = None
    ts: str | None = None
    channel: str | None = None
    count_attempt: bool = True


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
        give_up_after: timedelta = timedelta(hours=6),
        max_backoff: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.clients = clients
        self.clock = clock
        self.instance_id = instance_id
        self.admins = admins
        self.pacer = pacer or Pacer()
        self.batch_size = batch_size
        self.lease = lease
        self.give_up_after = give_up_after
        self.max_backoff = max_backoff
        self.rng = rng or random.Random()
        self._wake = asyncio.Event()
        self.sent_count = 0

    def wake(self) -> None:
        """Called after a commit that queued rows, so they go out now rather than at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, idle_poll: float = 1.0) -> None:
        while not stop.is_set():
            try:
                handled = await self.send_due()
            except Exception:  # the loop must survive a database hiccup; the rows stay queued
                log.exception("outbox pass failed")
                handled = 0
            if handled == 0:
                self._wake.clear()
                waiter = asyncio.ensure_future(self._wake.wait())
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait({waiter, stopper}, timeout=idle_poll, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                stopper.cancel()

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
        now = self.clock.now()
        async with UnitOfWork(self.session_factory) as uow:
            rows = await uow.outbox.claim_due(
                now=now, instance=self.instance_id, lease=self.lease, limit=self.batch_size
            )
            snapshot = [_RowSnapshot.of(row) for row in rows]
        if not snapshot:
            return 0
        by_channel: dict[str, list[_RowSnapshot]] = defaultdict(list)
        for row in snapshot:
            by_channel[row.channel_id or f"row:{row.id}"].append(row)
        await asyncio.gather(*(self._send_channel(rows) for rows in by_channel.values()))
        return len(snapshot)

    async def _send_channel(self, rows: list[_RowSnapshot]) -> None:
        # one channel's rows go in order: a card before its updates and thread replies
        for row in rows:
            outcome = await self._attempt(row)
            await self._record(row, outcome)

    async def _attempt(self, row: _RowSnapshot) -> Outcome:
        try:
            call = await self._prepare(row)
        except NoInstallation:
            return Outcome(ok=False, error="no installation for this workspace")
        if isinstance(call, Outcome):
            return call
        method, args = call
        try:
            client = await self.clients.outbox(row.team_id)
        except NoInstallation:
            return Outcome(ok=False, error="no installation for this workspace")
        pace_key = f"{row.team_id}:{args.get('channel') or row.channel_id}:{_tier(method)}"
        await self.pacer.acquire(pace_key)
        try:
            response = await client.api_call(method, json=args)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error") or f"http_{status}")
            if status == 429:
                retry_after = float(
                    exc.response.headers.get("Retry-After", exc.response.headers.get("retry-after", 1))
                )
                self.pacer.block(pace_key, retry_after)
                return Outcome(ok=False, retry_in=retry_after, error="ratelimited")
            if error in PERMANENT_ERRORS:
                return Outcome(ok=False, error=error)
            return Outcome(ok=False, retry_in=self._backoff(row.attempts), error=error)
        except (aiohttp.ClientError, TimeoutError, ConnectionError, OSError) as exc:
            return Outcome(
                ok=False, retry_in=self._backoff(row.attempts), error=f"{type(exc).__name__}: {exc}"[:300]
            )
        return Outcome(ok=True, ts=response.get("ts"), channel=response.get("channel"))

    async def _prepare(self, row: _RowSnapshot) -> tuple[str, dict[str, Any]] | Outcome:
        """Build the API call; card rows are rendered now so the card never shows stale state."""
        args = {k: v for k, v in row.payload.items() if v is not None and k != "render"}
        if row.channel_id:
            args["channel"] = row.channel_id
        if row.purpose in purposes.DISCUSSION_PURPOSES:
            return await prepare_discussion_row(self.session_factory, row, args)
        if row.lead_id is None or row.purpose not in (
            purposes.LEAD_CARD,
            purposes.LEAD_CARD_UPDATE,
            purposes.LEAD_THREAD,
        ):
            return row.method, args
        async with UnitOfWork(self.session_factory) as uow:
            lead = await uow.leads.get(row.team_id, row.lead_id)
            if lead is None:
                return Outcome(ok=False, error="lead no longer exists")
            if row.purpose != purposes.LEAD_CARD and lead.message_ts is None:
                # the card is not posted yet: wait for it unless it can never come
                if await uow.outbox.pending_card_post(lead.id) is not None:
                    return Outcome(ok=False, retry_in=0.5, error="waiting for the card", count_attempt=False)
                return Outcome(ok=False, error="the lead's card was never posted")
            if row.purpose == purposes.LEAD_THREAD:
                args["channel"] = lead.channel_id
                args["thread_ts"] = lead.message_ts
                return row.method, args
            rule = await uow.session.get(RoutingRule, lead.rule_id) if lead.rule_id else None
            text, blocks = lead_card(lead, rule_name=rule.name if rule else None)
            args.update(text=text, blocks=[b.to_dict() for b in blocks])
            if row.purpose == purposes.LEAD_CARD_UPDATE:
                args["channel"], args["ts"] = lead.channel_id, lead.message_ts
            return row.method, args

    def _backoff(self, attempts: int) -> float:
        base = min(self.max_backoff, 2.0 ** max(0, attempts - 1))
        return base * self.rng.uniform(0.5, 1.5)

    async def _record(self, snap: _RowSnapshot, outcome: Outcome) -> None:
        now = self.clock.now()
        async with UnitOfWork(self.session_factory) as uow:
            row = await uow.outbox.get(snap.id)
            if row is None or row.status != "sending" or row.claimed_by != self.instance_id:
                return  # our lease ran out and another instance owns it now
            if outcome.ok:
                row.status, row.sent_at, row.last_error = "sent", now, None
                row.result_ts, row.result_channel = outcome.ts, outcome.channel
                row.claimed_until = None
                if row.purpose == purposes.LEAD_CARD and row.lead_id and outcome.ts:
                    await uow.leads.set_message(
                        row.team_id,
                        row.lead_id,
                        channel_id=outcome.channel or row.channel_id or "",
                        ts=outcome.ts,
                    )
                if row.purpose in RECORDS_TS and row.ref_table and row.ref_id and outcome.ts:
                    await record_discussion_ts(uow, row.ref_table, row.ref_id, outcome.ts)
                self.sent_count += 1
                return
            row.last_error = outcome.error
            if not outcome.count_attempt:
                row.attempts -= 1
            too_old = now - row.created_at > self.give_up_after
            if outcome.retry_in is not None and not too_old:
                row.status = "pending"
                row.next_attempt_at = now + timedelta(seconds=outcome.retry_in)
                row.claimed_until = None
                return
            row.status = "failed"
            row.claimed_until = None
            log.warning("outbox row %s failed for good: %s", row.id, outcome.error)
            if row.purpose != purposes.ALERT:
                await self._alert(uow, row, outcome.error or "unknown error", now)

    async def _alert(self, uow: UnitOfWork, row: Outbox, error: str, now: datetime) -> None:
        what = "The lead is safe in Handoff; fix the channel and it can be re-posted." if row.lead_id else ""
        where = f"<#{row.channel_id}>" if row.channel_id and row.channel_id[0] in "CG" else "a conversation"
        text = ALERT_DELIVERY_FAILED.format(channel=where, error=error, what=what).strip()
        for admin in self.admins:
            await uow.outbox.add(
                team_id=row.team_id,
                method="chat.postMessage",
                channel_id=admin,
                payload={"text": text},
                purpose=purposes.ALERT,
                at=now,
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
    ref_table: str | None = None
    ref_id: int | None = None

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
            ref_table=row.ref_table,
            ref_id=row.ref_id,
        )


def _tier(method: str) -> str:
    # chat.update is tier 3 (50+/min) and shares no per-channel limit with posting
    return "update" if method == "chat.update" else "post"
