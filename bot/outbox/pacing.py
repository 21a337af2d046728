"""Pacing: token buckets per channel for chat.postMessage and per workspace and method for the
rest of the Web API, by Slack's rate tiers; a 429's Retry-After blocks its key. Slack's tier
limits are per workspace and method, and the bulk lane may use only a share of each: a bulk drain
(a burst's summary edits, the lookups after a crash) leaves the rest of the workspace's budget to
what a person waits for and to hot leads, and another workspace's budget is its own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.domain.outbox import Lane


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
# of each workspace's tier budget per method, what the bulk lane may use (HANDOFF_BULK_TIER_SHARE)
BULK_TIER_SHARE = 0.5
# a channel's posts need no share: its own worker sends its best row (lane, then age) at each turn
SHARED_LANES = frozenset({Lane.BULK})

Spec = tuple[str, float, float]  # a bucket: key, calls per second, burst


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
    # the share of a workspace's tier budget (per method) that rows of the bulk lane may use
    bulk_share: float = BULK_TIER_SHARE
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

    def key_for(self, team_id: str, method: str, channel: str | None) -> Spec | None:
        if method == POST_METHOD:
            return f"{team_id}:{channel or '-'}:post", self.rate, max(1.0, self.burst - self.reserve)
        if self.tiers is None:
            return None
        rate, burst = self.tiers[METHOD_TIERS.get(method, "tier3")]
        return f"{team_id}:{method}", rate, burst

    def specs_for(
        self, team_id: str, method: str, channel: str | None, lane: int | None = None
    ) -> list[Spec]:
        """The buckets a call goes through, in order: for a tier-paced call of the bulk lane, first
        the lane's share of the workspace's budget for the method, then the budget itself."""
        spec = self.key_for(team_id, method, channel)
        if spec is None:
            return []
        key, rate, burst = spec
        if method == POST_METHOD or lane not in SHARED_LANES or self.bulk_share >= 1:
            return [spec]
        share = (f"{key}:lane{lane}", rate * self.bulk_share, max(1.0, burst * self.bulk_share))
        return [share, spec]

    async def acquire_call(
        self, team_id: str, method: str, channel: str | None, lane: int | None = None
    ) -> str | None:
        """Wait for a turn for this call; returns the key a 429 should block (the workspace's or
        the channel's, never a lane's share: Slack's answer is about the whole budget)."""
        specs = self.specs_for(team_id, method, channel, lane)
        for key, rate, burst in specs:
            await self.acquire(key, rate=rate, burst=burst)
        return specs[-1][0] if specs else None

    async def wait_turn(
        self, team_id: str, method: str, channel: str | None, lane: int | None = None
    ) -> None:
        """Wait until a call would get its turn at once, without taking it: the channel's worker
        waits here first and only then picks its best row, so a hot row that arrives meanwhile goes
        in this turn instead of after the row that was waiting."""
        for key, _, _ in self.specs_for(team_id, method, channel, lane):
            await self._wait_for(key)

    async def _wait_for(self, key: str) -> None:
        now = self.monotonic()
        hold = self.blocked_until.get(key, 0.0) - now
        if hold > 0:
            await self._pause(hold)
            now = self.monotonic()
        bucket = self.buckets.get(key)
        if bucket is None:
            return
        tokens = min(bucket.capacity, bucket.tokens + (now - bucket.updated) * bucket.rate)
        if tokens < 1:
            await self._pause((1 - tokens) / bucket.rate)

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
