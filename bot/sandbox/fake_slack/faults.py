"""Misbehaviour on demand: scripted failures, seeded chaos, latency, per-channel rate limits, outages.

``Faults`` is mixed into ``FakeSlack``; the server consults it on every Web API call.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

# "lost": Slack does the work, then the connection drops before the answer (the crash window)
FailureKind = Literal["ratelimited", "server_error", "timeout", "reset", "error", "lost"]


@dataclass
class Failure:
    method: str | None
    kind: str
    times: int
    retry_after: int
    error: str
    delay: float
    status: int


class RateLimited(Exception):
    """Raised by a method handler when the per-channel token bucket is empty: answered with a 429."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("ratelimited")
        self.retry_after = retry_after


class Faults:
    """The knobs tests turn (``fail``, ``chaos``, ``set_latency``, ``rate_limit``, ``unreachable``)."""

    clock: Callable[[], float]

    def __init__(self) -> None:
        self.rate_limited_count = 0
        self._failures: list[Failure] = []
        self._chaos_rate = 0.0
        self._chaos_kinds: tuple[str, ...] = ()
        self._chaos_rng = random.Random(0)
        self._chaos_methods: set[str] | None = None
        self._chaos_delay = 0.2
        self._latency: dict[str | None, float] = {}
        self._bucket_rate: float | None = None
        self._bucket_burst = 1
        self._buckets: dict[str, tuple[float, float]] = {}
        self._unreachable = False

    def fail(
        self,
        method: str | None = None,
        *,
        kind: FailureKind,
        times: int = 1,
        retry_after: int = 1,
        error: str = "internal_error",
        delay: float = 0.0,
        status: int = 500,
    ) -> None:
        """The next ``times`` calls of ``method`` (None = any) misbehave in the given way."""
        self._failures.append(Failure(method, kind, times, retry_after, error, delay, status))

    def chaos(
        self,
        rate: float = 0.2,
        *,
        kinds: Iterable[FailureKind] = ("ratelimited", "server_error", "timeout", "reset"),
        seed: int = 0,
        methods: Iterable[str] | None = None,
        delay: float = 0.2,
    ) -> None:
        """Misbehave on a seeded-random ``rate`` of calls; ``chaos(0)`` turns it off."""
        self._chaos_rate = rate
        self._chaos_kinds = tuple(kinds)
        self._chaos_rng = random.Random(seed)
        self._chaos_methods = set(methods) if methods is not None else None
        self._chaos_delay = delay

    def set_latency(self, seconds: float, method: str | None = None) -> None:
        self._latency[method] = seconds

    def rate_limit(self, per_channel_per_second: float | None, *, burst: int = 1) -> None:
        """Token bucket per channel on chat.postMessage; ``None`` turns it off."""
        self._bucket_rate = per_channel_per_second
        self._bucket_burst = burst
        self._buckets.clear()

    def unreachable(self, on: bool = True) -> None:
        self._unreachable = on

    # ------------------------------------------------------------------ consulted per call

    def _take_failure(self, method: str) -> Failure | None:
        for f in self._failures:
            if f.method in (None, method) and f.times > 0:
                f.times -= 1
                if f.times == 0:
                    self._failures.remove(f)
                return f
        if self._chaos_rate > 0 and (self._chaos_methods is None or method in self._chaos_methods):
            if self._chaos_rng.random() < self._chaos_rate:
                kind = self._chaos_rng.choice(self._chaos_kinds)
                return Failure(method, kind, 1, 1, "internal_error", self._chaos_delay, 500)
        return None

    def _latency_for(self, method: str) -> float:
        return self._latency.get(method, self._latency.get(None, 0.0))

    def _bucket_take(self, channel: str) -> None:
        if not self._bucket_rate:
            return
        now = self.clock()
        tokens, last = self._buckets.get(channel, (float(self._bucket_burst), now))
        tokens = min(float(self._bucket_burst), tokens + (now - last) * self._bucket_rate)
        if tokens < 1.0:
            self._buckets[channel] = (tokens, now)
            raise RateLimited(max(1, math.ceil((1.0 - tokens) / self._bucket_rate)))
        self._buckets[channel] = (tokens - 1.0, now)
