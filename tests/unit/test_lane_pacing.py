"""Per-workspace budgets per lane (issue 14): Slack's tier limits are per workspace and method; the
bulk lane may use only a share of each, so a bulk drain leaves the rest to what a person waits for
and to hot leads, and one workspace's drain never touches another's budget. Time is simulated:
every sleep is an event on a virtual clock, so concurrent callers queue as they would for real."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable

import pytest

from bot.domain.outbox import Lane
from bot.outbox.pacing import TIER_LIMITS, Pacer

TIER3_RATE, TIER3_BURST = TIER_LIMITS["tier3"]  # chat.update: 50 a minute, bursts of 10


class SimTime:
    """A virtual clock whose sleeps wake in time order: concurrent tasks interleave as for real."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._seq), future))
        await future

    async def run(self, *calls: Awaitable[None]) -> None:
        tasks = [asyncio.ensure_future(c) for c in calls]
        while not all(t.done() for t in tasks):
            for _ in range(5):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if self._sleepers:
                at, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, at)
                future.set_result(None)
        for task in tasks:
            task.result()


def pacer(sim: SimTime, **options: float) -> Pacer:
    return Pacer(rate=1.0, burst=3, monotonic=sim.monotonic, sleep=sim.sleep, **options)  # type: ignore[arg-type]


async def test_the_bulk_lane_gets_only_its_share_of_a_workspace_tier() -> None:
    sim = SimTime()
    p = pacer(sim)
    done: list[float] = []

    async def bulk_update(i: int) -> None:
        await p.acquire_call("T1", "chat.update", f"C{i}", Lane.BULK)
        done.append(sim.now)

    await sim.run(*(bulk_update(i) for i in range(25)))
    # half the burst at once, then half the rate: 20 more at 2.4 s each
    assert done[:5] == [0.0] * 5
    assert done[-1] == pytest.approx(20 / (TIER3_RATE * 0.5))
    # lanes that are not bulk are not held to a share: the whole budget, burst and rate
    sim2 = SimTime()
    p2 = pacer(sim2)
    await sim2.run(*(p2.acquire_call("T1", "chat.update", f"C{i}", Lane.SINGLE) for i in range(25)))
    assert sim2.now == pytest.approx(15 / TIER3_RATE)


@pytest.mark.parametrize("share, waits_long", [(0.5, False), (1.0, True)])
async def test_a_person_waits_one_turn_at_most_behind_a_bulk_drain(share: float, waits_long: bool) -> None:
    """Thirty channels' bulk updates queue for the workspace's chat.update budget; a card update
    after a click (lane 1) then goes within about one turn, and another workspace's at once. With
    no share (the old pacing), the click's update queued behind every bulk update."""
    sim = SimTime()
    p = pacer(sim, bulk_share=share)
    went: dict[str, float] = {}

    async def call(name: str, team: str, lane: Lane, after: float = 0.0) -> None:
        if after:
            await sim.sleep(after)
        await p.acquire_call(team, "chat.update", name, lane)
        went[name] = sim.now

    bulk = [call(f"bulk{i}", "T1", Lane.BULK) for i in range(30)]
    await sim.run(
        *bulk,
        call("click", "T1", Lane.PERSON, after=1.0),
        call("hot", "T1", Lane.HOT, after=5.0),
        call("other-workspace", "T2", Lane.PERSON, after=1.0),
    )
    assert went["other-workspace"] == pytest.approx(1.0)  # its own budget: no wait at all
    if waits_long:
        assert went["click"] > 20
    else:
        assert went["click"] - 1.0 <= 1 / TIER3_RATE
        assert went["hot"] - 5.0 <= 1 / TIER3_RATE
        # and the bulk still drains, at its share
        assert max(t for n, t in went.items() if n.startswith("bulk")) == pytest.approx(
            25 / (TIER3_RATE * 0.5)
        )


async def test_a_429_blocks_the_workspace_budget_and_posts_are_not_shared() -> None:
    sim = SimTime()
    p = pacer(sim)
    # Slack's Retry-After is about the method's whole budget, not a lane's share of it
    assert await p.acquire_call("T1", "chat.update", "C1", Lane.BULK) == "T1:chat.update"
    # a channel's posts are paced by the channel's own bucket (its worker picks the best row)
    assert p.specs_for("T1", "chat.postMessage", "C1", Lane.BULK) == [("T1:C1:post", 1.0, 3.0)]
    assert [key for key, _, _ in p.specs_for("T1", "conversations.replies", "C1", Lane.BULK)] == [
        "T1:conversations.replies:lane4",
        "T1:conversations.replies",
    ]
    assert [key for key, _, _ in p.specs_for("T1", "chat.update", "C1", Lane.PERSON)] == ["T1:chat.update"]
