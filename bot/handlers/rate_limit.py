"""Per-client token buckets for the HTTP API: a noisy client gets 429 + Retry-After, others don't."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`per_minute` requests a minute per client, with bursts up to the same number.

    In memory, per instance: behind a load balancer each instance allows its own share, which is
    what a limit against runaway scripts needs (it is not a quota)."""

    def __init__(
        self, per_minute: int, *, monotonic: Callable[[], float] = time.monotonic, max_clients: int = 10_000
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.monotonic = monotonic
        self.max_clients = max_clients
        self._buckets: dict[str, _Bucket] = {}

    def check(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds to wait before the next one."""
        now = self.monotonic()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._prune(now)
            bucket = self._buckets[client] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def retry_after(self, wait: float) -> str:
        return str(max(1, math.ceil(wait)))

    def _prune(self, now: float) -> None:
        # buckets that have refilled carry no memory worth keeping
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self.rate >= self.capacity:
                del self._buckets[key]
        if len(self._buckets) >= self.max_clients:
            self._buckets.clear()
