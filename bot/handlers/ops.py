"""The operator's routes: /readyz (readiness), /metrics (Prometheus), and the middleware that
counts every request and holds requests back while the schema is being migrated.
/healthz (liveness) stays in bot/app.py, where it always was."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.observability import metrics
from bot.observability.logs import QUIET_PATHS
from bot.observability.readiness import Phase, Readiness
from bot.storage.db import ping
from bot.storage.outbox_depth import QueueGroup, outbox_groups

log = logging.getLogger(__name__)

# a probe or a scrape must answer before its own timeout, database or not
PROBE_TIMEOUT = 2.0
T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class OpsRoutes:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        clock: Clock,
        readiness: Readiness,
        metrics_token: str = "",
        socket_connected: Callable[[], bool | None] = lambda: None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.readiness = readiness
        self.metrics_token = metrics_token
        # Socket Mode only: whether Slack's socket is up (it is retried with backoff meanwhile;
        # HTTP doors and the outbox keep working, so it is reported, not a reason to drain)
        self.socket_connected = socket_connected

    def register(self, app: web.Application, *, with_metrics: bool = True) -> None:
        app.router.add_get("/readyz", self.readyz)
        if with_metrics:
            self.register_metrics(app)
        app.middlewares.append(self.middleware)

    def register_metrics(self, app: web.Application) -> None:
        app.router.add_get("/metrics", self.metrics)

    async def readyz(self, request: web.Request) -> web.StreamResponse:
        phase = self.readiness.phase
        database = phase is Phase.READY and await _within(ping(self.engine), PROBE_TIMEOUT, False)
        ok = phase is Phase.READY and database
        body = {"status": "ready" if ok else "unavailable", "phase": phase.value}
        if phase is Phase.READY:
            body["database"] = "ok" if database else "unreachable"
        socket = self.socket_connected()
        if socket is not None:
            body["socket"] = "connected" if socket else "not connected"
        return web.json_response(body, status=200 if ok else 503, dumps=json.dumps)

    async def metrics(self, request: web.Request) -> web.StreamResponse:
        if self.metrics_token and not _bearer_matches(request, self.metrics_token):
            return web.json_response(
                {"error": "metrics need a bearer token"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="handoff-metrics"'},
            )
        groups = await _within(outbox_groups(self.engine), PROBE_TIMEOUT, None)
        set_outbox_gauges(groups, self.clock.now())
        set_pool_gauges(self.engine)
        return web.Response(
            body=generate_latest(metrics.REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in QUIET_PATHS:
            return await handler(request)
        if not self.readiness.serving:
            return web.json_response({"error": "starting: the database schema is being migrated"}, status=503)
        start = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            # the kind is known once the edge has read the request: label after the handler
            kind = _kind(request)
            metrics.request_seconds.labels(kind).observe(time.perf_counter() - start)
            metrics.requests.labels(kind, _outcome(request, status)).inc()


def _kind(request: web.Request) -> str:
    kind = request.get(metrics.REQUEST_KIND)
    if kind:
        return str(kind)
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def _outcome(request: web.Request, status: int) -> str:
    if request.get(metrics.REQUEST_OUTCOME):
        return str(request[metrics.REQUEST_OUTCOME])
    return "error" if status >= 500 else "rejected" if status >= 400 else "ok"


def _bearer_matches(request: web.Request, token: str) -> bool:
    given = request.headers.get("Authorization", "")
    return given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode())


async def _within(work: Awaitable[T], seconds: float, default: T) -> T:
    try:
        return await asyncio.wait_for(work, seconds)
    except Exception as exc:  # an unreachable database is an answer here, never a 500
        log.debug("probe failed: %s", type(exc).__name__)
        return default


def set_outbox_gauges(groups: list[QueueGroup] | None, now: datetime) -> None:
    """Queue depth and oldest age by lane and channel: the busiest MAX_CHANNELS channels by ID,
    the rest as channel="other" (DMs are "dm", rows without a channel "none"). None (the database did not answer) leaves no series."""
    metrics.outbox_depth.clear()
    metrics.outbox_oldest.clear()
    metrics.outbox_failed.clear()
    if groups is None:
        return
    per_channel: dict[str, int] = defaultdict(int)
    for group in groups:
        if group.status == "queued":
            per_channel[metrics.channel_label(group.channel_id)] += group.count
    named = [c for c in per_channel if c not in metrics.FOLDED_CHANNELS]
    busiest = {
        *sorted(named, key=lambda c: -per_channel[c])[: metrics.MAX_CHANNELS],
        *metrics.FOLDED_CHANNELS,
    }
    depth: dict[tuple[str, str], int] = defaultdict(int)
    oldest: dict[tuple[str, str], datetime] = {}
    failed: dict[str, int] = defaultdict(int)
    for group in groups:
        lane = metrics.lane(group.purpose)
        if group.status != "queued":
            failed[lane] += group.count
            continue
        channel = metrics.channel_label(group.channel_id)
        key = (lane, channel if channel in busiest else "other")
        depth[key] += group.count
        if group.oldest is not None:
            when = _aware(group.oldest)
            oldest[key] = min(oldest.get(key, when), when)
    for key, count in depth.items():
        metrics.outbox_depth.labels(*key).set(count)
        metrics.outbox_oldest.labels(*key).set(
            max(0.0, (now - oldest[key]).total_seconds()) if key in oldest else 0.0
        )
    for lane, count in failed.items():
        metrics.outbox_failed.labels(lane).set(count)


def set_pool_gauges(engine: AsyncEngine) -> None:
    pool = engine.pool
    sizes = {
        "in_use": getattr(pool, "checkedout", None),
        "idle": getattr(pool, "checkedin", None),
        "overflow": getattr(pool, "overflow", None),
        "size": getattr(pool, "size", None),
    }
    for state, read in sizes.items():
        if callable(read):
            metrics.db_pool.labels(state).set(max(0, int(read())))


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
