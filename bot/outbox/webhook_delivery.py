"""Outbound events to endpoints that are not Slack: Standard Webhooks over plain HTTP.

The renderer loads the event (its body was snapshotted at the change) and the endpoint at send
time, so a removed or disabled endpoint gets nothing and an endpoint failing for
HANDOFF_WEBHOOK_DISABLE_HOURS is disabled, with one admin alert (a compare-and-set decides who
alerts). The delivery signs each attempt afresh (the timestamp is the attempt's; the webhook-id
stays the event's and endpoint's), paces per endpoint host, refuses private addresses (SSRF,
unless HANDOFF_WEBHOOK_ALLOW_PRIVATE), follows no redirects, and turns the answer into an Outcome:
2xx sent; 429 waits for Retry-After; timeouts, 5xx, other answers and resets retry with backoff."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import __version__
from bot.clock import Clock
from bot.config import Settings
from bot.domain import webhooks as spec
from bot.domain.errors import InvalidInput
from bot.domain.outbox import Purpose
from bot.messages import ALERT_WEBHOOK_DISABLED
from bot.observability import metrics
from bot.outbox.notifier import Notifier
from bot.outbox.outcome import Backoff, Call, Outcome, Result, RowSnapshot, aware, short_error
from bot.outbox.pacing import Pacer, Stopping
from bot.outbox.rendering import Rendered
from bot.slack.mrkdwn import escape
from bot.storage.encryption import unseal
from bot.storage.models import Outbox
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

RATELIMITED = "http 429"


class WebhookRenderer:
    purposes = frozenset({Purpose.WEBHOOK})

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
    ) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.clock = clock

    async def render(self, rows: Sequence[tuple[RowSnapshot, dict[str, Any]]]) -> Rendered:
        calls: Rendered = {}
        now = self.clock.now()
        disable_after = timedelta(hours=self.settings.webhook_disable_hours)
        async with UnitOfWork(self.session_factory) as uow:
            notifier = Notifier(uow.outbox, now=now, admins=lambda team: self._admins(uow, team))
            for row, args in rows:
                endpoint = await uow.webhooks.endpoint(row.team_id, int(args.get("endpoint_id") or 0))
                event = await uow.webhooks.event(row.ref_id or 0)
                if endpoint is None or event is None:
                    calls[row.id] = Outcome.fail("the webhook endpoint was removed")
                    continue
                if endpoint.disabled_at is not None:
                    calls[row.id] = Outcome.fail("the webhook endpoint is disabled")
                    continue
                if (
                    endpoint.failing_since is not None
                    and now - aware(endpoint.failing_since) >= disable_after
                ):
                    if await uow.webhooks.disable(endpoint.id, at=now):
                        log.warning(
                            "webhook endpoint %s disabled after failing since %s",
                            endpoint.id,
                            endpoint.failing_since,
                        )
                        await notifier.alert_admins(
                            row.team_id,
                            ALERT_WEBHOOK_DISABLED.format(
                                url=escape(endpoint.url),
                                hours=f"{self.settings.webhook_disable_hours:g}",
                                error=escape(endpoint.last_error or "unknown error"),
                                id=endpoint.id,
                            ),
                        )
                    calls[row.id] = Outcome.fail("the webhook endpoint is disabled")
                    continue
                calls[row.id] = (
                    row.method,
                    {
                        "endpoint_id": endpoint.id,
                        "url": endpoint.url,
                        "secret": unseal(endpoint.secret, self.settings.secret("encryption_key")),
                        "webhook_id": spec.message_id(event.id, endpoint.id),
                        "body": event.body,
                        "failing": endpoint.failing_since is not None,
                    },
                )
        return calls

    async def _admins(self, uow: UnitOfWork, team_id: str) -> tuple[str, ...]:
        own = await uow.settings.admins(team_id)
        return own if own is not None else self.settings.admins

    async def record_sent(self, uow: UnitOfWork, row: Outbox, outcome: Outcome) -> None:
        return None


class GuardedResolver(AbstractResolver):
    """Resolves names, then drops the addresses we must not call; the connection uses only what
    is left, so a name that re-resolves to 127.0.0.1 (DNS rebinding) still cannot reach it."""

    def __init__(self, *, allow_private: bool) -> None:
        self.inner = DefaultResolver()
        self.allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        allowed = [r for r in found if spec.address_allowed(r["host"], allow_private=self.allow_private)]
        if not allowed:
            raise OSError(f"{host} resolves only to private addresses")
        return allowed

    async def close(self) -> None:
        await self.inner.close()


class WebhookDelivery:
    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        pacer: Pacer,
        backoff: Backoff,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.clock = clock
        self.pacer = pacer
        self.backoff = backoff
        self.wall = wall  # the signature's timestamp: receivers compare it to their own clocks
        self._session: aiohttp.ClientSession | None = None
        self._held_until: dict[str, float] = {}  # host key → epoch seconds (429 Retry-After)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(allow_private=self.settings.webhook_allow_private),
                limit=100,
                limit_per_host=10,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.settings.webhook_timeout),
                headers={"user-agent": f"Handoff-Webhooks/{__version__}"},
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def attempt(self, row: RowSnapshot, call: Call, lease_left: Callable[[], float]) -> Outcome:
        _, args = call
        url, endpoint_id = str(args["url"]), int(args["endpoint_id"])
        try:
            spec.check_url(url, allow_private=self.settings.webhook_allow_private)
        except InvalidInput as exc:
            return await self._failed(
                row, args, "refused", Outcome.retry(self.backoff(row.attempts), str(exc))
            )
        key = "webhook:" + spec.host_of(url)
        # a 429 holds the whole host until its Retry-After (on the injected clock, like the rows'
        # next attempts); the rows waiting for it are not attempts against the endpoint
        held = (
            (self._held_until.get(key, 0.0) - self.clock.now().timestamp())
            if key in self._held_until
            else 0.0
        )
        if held > 0:
            return Outcome(Result.WAIT, retry_in=held, error=RATELIMITED)
        try:
            await self.pacer.acquire(key, rate=self.settings.webhook_rate, burst=self.settings.webhook_burst)
        except Stopping:
            return Outcome.release()
        if lease_left() < self.settings.webhook_timeout + 2:
            return Outcome.release()
        body = str(args["body"]).encode()
        headers = spec.headers(str(args["secret"]), str(args["webhook_id"]), int(self.wall()), body)
        start = time.perf_counter()
        try:
            async with self._http().post(url, data=body, headers=headers, allow_redirects=False) as response:
                status = response.status
                retry_after = response.headers.get("Retry-After")
                await response.content.read(4096)  # a little, so the connection can be reused
        except TimeoutError:
            outcome = Outcome.retry(max(self.backoff(row.attempts), 1.0), "timeout")
            return await self._failed(row, args, "timeout", outcome, start)
        except (aiohttp.ClientError, OSError) as exc:
            outcome = Outcome.retry(self.backoff(row.attempts), short_error(exc))
            return await self._failed(row, args, "connection", outcome, start)
        if 200 <= status < 300:
            _count("ok", start)
            if args.get("failing"):
                async with UnitOfWork(self.session_factory) as uow:
                    await uow.webhooks.mark_working(endpoint_id)
            return Outcome.sent()
        if status == 429:
            wait = spec.retry_after(retry_after, now_epoch=self.wall())
            self._held_until[key] = self.clock.now().timestamp() + wait
            return await self._failed(row, args, "ratelimited", Outcome.retry(wait, RATELIMITED), start)
        return await self._failed(
            row, args, "error", Outcome.retry(self.backoff(row.attempts), f"http {status}"), start
        )

    async def _failed(
        self,
        row: RowSnapshot,
        args: dict[str, Any],
        status: str,
        outcome: Outcome,
        start: float | None = None,
    ) -> Outcome:
        """Count it, and start the endpoint's failing clock (once: later failures keep it)."""
        if start is not None:
            _count(status, start)
        else:
            metrics.webhook_calls.labels(status).inc()
        try:
            async with UnitOfWork(self.session_factory) as uow:
                await uow.webhooks.mark_failing(
                    int(args["endpoint_id"]), at=self.clock.now(), error=outcome.error or status
                )
        except Exception as exc:  # the attempt's outcome matters more than the bookkeeping
            log.warning(
                "webhook endpoint %s: could not record the failure: %s",
                args.get("endpoint_id"),
                short_error(exc),
            )
        return outcome


def _count(status: str, start: float) -> None:
    metrics.webhook_calls.labels(status).inc()
    metrics.webhook_call_seconds.observe(time.perf_counter() - start)
