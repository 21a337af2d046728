"""A row that waits in this instance's own queue past its lease (Slack slow to answer the rows
before it) is claimed again by the same instance: its lease is renewed, it is not queued twice,
and the channel's worker lives on. Found by the kill -9 bulk drain test (tests/reliability/
test_bulk_kill.py): the second copy made the heap compare two rows, the worker died, and the
instance stopped claiming bulk rows with its in-flight count stuck."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.domain.outbox import Lane
from bot.outbox.pacing import Pacer
from tests.conftest import SALES, RunningBot
from tests.reliability.helpers import outbox_rows
from tests.reliability.test_outbox_sender import VirtualTime, sender_for


async def test_a_row_queued_past_its_lease_is_renewed_not_queued_twice(bot: RunningBot) -> None:
    handoff = bot.handoff
    team = await handoff.default_team_id()
    assert team
    async with handoff.open_context(team) as ctx:
        for i in range(4):
            await ctx.notifier.post(team, SALES, f"bulk line {i}", lane=Lane.BULK)
    vt = VirtualTime()
    gate = asyncio.Event()  # the channel's turns come only once the test opens the gate

    async def gated_sleep(seconds: float) -> None:
        await gate.wait()
        await vt.sleep(seconds)

    pacer = Pacer(rate=1.0, burst=1, monotonic=vt.monotonic, sleep=gated_sleep)
    sender = sender_for(handoff, "slow", pacer=pacer, batch_size=50, lease=timedelta(seconds=60))
    assert await sender._claim_and_queue(50) == 4
    for _ in range(20):
        await asyncio.sleep(0.01)
    assert [m.text for m in bot.fake.messages(SALES)] == ["bulk line 0"]  # the rest wait their turn

    bot.clock.advance(seconds=61)  # their leases run out while they wait in this queue
    assert await sender._claim_and_queue(50) == 3  # claimed again: by this same instance
    assert sender._in_flight == 3

    gate.set()
    await sender._settle_all()
    assert [m.text for m in bot.fake.messages(SALES)] == [f"bulk line {i}" for i in range(4)]
    assert sender._in_flight == 0 and not sender._workers
    rows = await outbox_rows(handoff)
    assert [r.status for r in rows] == ["sent"] * 4
