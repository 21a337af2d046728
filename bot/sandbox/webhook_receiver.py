"""A webhook receiver for tests and the bench: an aiohttp server that verifies every delivery
(Standard Webhooks signature and timestamp), remembers what it got by webhook-id, and misbehaves
on demand: 5xx, 429 with Retry-After, answers slower than the sender waits, dropped connections."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.domain.webhooks import secret_key

Verify = Callable[[bytes, Mapping[str, str]], None]  # raises on a bad delivery


def verify_with(secret: str, *, tolerance: float = 300.0) -> Verify:
    """Our own check, as a receiver would write it (the tests also check with `standardwebhooks`)."""
    key = secret_key(secret)

    def verify(body: bytes, headers: Mapping[str, str]) -> None:
        msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
        if not msg_id or not stamp.isdigit() or abs(time.time() - int(stamp)) > tolerance:
            raise ValueError("missing headers or stale timestamp")
        expected = base64.b64encode(
            hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        )
        for sig in headers.get("webhook-signature", "").split():
            version, _, value = sig.partition(",")
            if version == "v1" and hmac.compare_digest(value.encode(), expected):
                return
        raise ValueError("no matching signature")

    return verify


@dataclass
class Delivery:
    webhook_id: str
    timestamp: int
    type: str
    data: dict[str, Any]
    body: bytes
    at: float  # monotonic, when it arrived


@dataclass
class WebhookReceiver:
    verify: Verify
    received: dict[str, Delivery] = field(default_factory=dict)  # first arrival of each webhook-id
    arrivals: list[str] = field(default_factory=list)  # every accepted arrival, repeats included
    attempts: int = 0  # every request, faulted or not
    rejected: int = 0  # bad signature or timestamp: 401
    faults_injected: int = 0
    # scripted faults, consumed one per request: ("status", 503) | ("429", seconds) | ("hang", s) | ("reset", 0)
    script: list[tuple[str, float]] = field(default_factory=list)
    fault_rate: float = 0.0  # random faults (bench, soak): that share of requests fails
    rng: random.Random = field(default_factory=lambda: random.Random(17))
    _runner: web.AppRunner | None = None
    url: str = ""

    async def start(self, path: str = "/hooks") -> str:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post(path, self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}{path}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(self, *faults: tuple[str, float]) -> None:
        self.script.extend(faults)

    @property
    def duplicates(self) -> int:
        return len(self.arrivals) - len(self.received)

    def types(self) -> list[str]:
        return [d.type for d in self.received.values()]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.attempts += 1
        body = await request.read()
        fault = self.script.pop(0) if self.script else None
        if fault is None and self.fault_rate and self.rng.random() < self.fault_rate:
            fault = self.rng.choice([("status", 503.0), ("429", 1.0), ("status", 500.0), ("reset", 0.0)])
        if fault is not None:
            self.faults_injected += 1
            kind, value = fault
            if kind == "status":
                return web.Response(status=int(value), text="receiver is down")
            if kind == "429":
                return web.Response(status=429, headers={"Retry-After": str(int(value))})
            if kind == "hang":
                await asyncio.sleep(value)
                return web.Response(status=504)
            if kind == "reset":
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=500)
        try:
            self.verify(body, request.headers)
        except Exception:
            self.rejected += 1
            return web.Response(status=401, text="bad signature")
        payload = json.loads(body)
        msg_id = request.headers["webhook-id"]
        self.arrivals.append(msg_id)
        self.received.setdefault(
            msg_id,
            Delivery(
                webhook_id=msg_id,
                timestamp=int(request.headers["webhook-timestamp"]),
                type=payload["type"],
                data=payload["data"],
                body=body,
                at=time.monotonic(),
            ),
        )
        return web.Response(status=204)
