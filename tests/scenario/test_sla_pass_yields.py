"""An SLA pass working off a backlog shares the event loop and the database with requests
(issue 22): it gives the loop a turn between steps, and a request waiting for the connection gets
it between two chunks of steps instead of after the whole pass. On SQLite the driver's calls run on
the loop and never yield by themselves, so without explicit turns a pass held everything (bench.jobs
measured about half a second per pass at 100k open leads)."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from bot.services import sla
from bot.storage.models import Lead
from bot.storage.sla_checks import SlaCheckRepo
from tests.conftest import SALES, RunningBot, is_postgres

NOON = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # a Monday, in working hours


async def seed_overdue(bot: RunningBot, count: int) -> str:
    team = await bot.handoff.default_team_id()
    assert team is not None
    at = NOON - timedelta(hours=2)  # reminders were due 90 working minutes ago
    rows = [
        {"team_id": team, "dedupe_key": f"k{i}", "email": f"l{i}@acme.com", "status": "new",
         "channel_id": SALES, "message_ts": f"1700000000.{i:06d}", "fields": {}, "intake_channel": "api",
         "nurture": False, "created_at": at, "updated_at": at}
        for i in range(count)
    ]  # fmt: skip
    async with bot.handoff.uow() as uow:
        await uow.session.execute(insert(Lead), rows)
    return team


async def test_the_loop_gets_a_turn_between_two_steps(bot: RunningBot, monkeypatch) -> None:
    team = await seed_overdue(bot, 3 * sla.CHUNK // 2)  # a reminder and an escalation each
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    seen: list[int] = []
    fire = sla._fire

    async def counting_fire(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(ticks)
        return await fire(*args, **kwargs)

    monkeypatch.setattr(sla, "_fire", counting_fire)
    task = asyncio.create_task(ticker())
    try:
        done = await sla.sla_pass(bot.handoff, team, NOON)
    finally:
        task.cancel()
    assert done.fired == 3 * sla.CHUNK
    assert all(later > earlier for earlier, later in itertools.pairwise(seen)), seen


async def test_a_waiting_request_goes_between_two_chunks(bot: RunningBot, monkeypatch) -> None:
    team = await seed_overdue(bot, 3 * sla.CHUNK // 2)  # a reminder and an escalation each
    order: list[str] = []
    fire_all = sla._fire_all
    first_chunk = asyncio.Event()

    async def noting_fire_all(*args, **kwargs):  # type: ignore[no-untyped-def]
        fired = await fire_all(*args, **kwargs)
        order.append("chunk")
        first_chunk.set()
        return fired

    async def request() -> None:
        await first_chunk.wait()
        async with bot.handoff.open_context(team) as ctx:  # e.g. a Claim's transaction
            await ctx.uow.settings.get(team, "sales_channel")
        order.append("request")

    monkeypatch.setattr(sla, "_fire_all", noting_fire_all)
    waiting = asyncio.create_task(request())
    await sla.sla_pass(bot.handoff, team, NOON)
    await waiting
    # the request asked while the first chunk ran; it must not wait for the other two
    assert order.index("request") <= 2, order
    assert order.count("chunk") == 3


async def _served_after(bot: RunningBot, team: str, asked: asyncio.Event, order: list[str]) -> None:
    """A request (e.g. a Claim's transaction) that asks for the database once `asked` is set."""
    await asked.wait()
    async with bot.handoff.open_context(team) as ctx:
        await ctx.uow.settings.get(team, "sales_channel")
    order.append("request")


async def test_a_request_waiting_for_the_connection_goes_before_the_next_step(
    bot: RunningBot, monkeypatch, database_url: str
) -> None:
    if is_postgres(database_url):
        pytest.skip("SQLite's one connection: on PostgreSQL a request takes another from the pool of 20")
    team = await seed_overdue(bot, sla.CHUNK)  # a reminder and an escalation each: two chunks' worth
    order: list[str] = []
    asked = asyncio.Event()
    fire = sla._fire

    async def noting_fire(*args, **kwargs):  # type: ignore[no-untyped-def]
        order.append("step")
        asked.set()  # the request asks while the chunk's transaction holds the connection
        return await fire(*args, **kwargs)

    monkeypatch.setattr(sla, "_fire", noting_fire)
    waiting = asyncio.create_task(_served_after(bot, team, asked, order))
    done = await sla.sla_pass(bot.handoff, team, NOON)
    await waiting
    # on SQLite the request waited for the only connection: the chunk gave way after the step in
    # hand, not after its twentieth (PostgreSQL's pool had a connection for it anyway)
    assert order.index("request") <= 2, order
    assert done.fired == 2 * sla.CHUNK


async def test_judging_runs_after_the_lease_commits(bot: RunningBot, monkeypatch) -> None:
    team = await seed_overdue(bot, 2 * sla.JUDGE_BETWEEN_YIELDS)
    order: list[str] = []
    asked = asyncio.Event()
    judge, fire = sla._judge, sla._fire

    def noting_judge(*args, **kwargs):  # type: ignore[no-untyped-def]
        asked.set()
        return judge(*args, **kwargs)

    async def noting_fire(*args, **kwargs):  # type: ignore[no-untyped-def]
        order.append("step")
        return await fire(*args, **kwargs)

    monkeypatch.setattr(sla, "_judge", noting_judge)
    monkeypatch.setattr(sla, "_fire", noting_fire)
    waiting = asyncio.create_task(_served_after(bot, team, asked, order))
    await sla.sla_pass(bot.handoff, team, NOON)
    await waiting
    # the judging (CPU, with turns of the loop) no longer holds the connection: a request that
    # asked meanwhile is served before the first chunk, not after it
    assert order.index("request") <= 1, order


async def test_the_pass_rests_after_each_step_as_long_as_it_took(bot: RunningBot, monkeypatch) -> None:
    team = await seed_overdue(bot, sla.CHUNK // 2)  # a reminder and an escalation each: one chunk
    steps: list[float] = []
    rests: list[float] = []
    fire = sla._fire

    async def timed_fire(*args, **kwargs):  # type: ignore[no-untyped-def]
        began = time.monotonic()
        try:
            return await fire(*args, **kwargs)
        finally:
            steps.append(time.monotonic() - began)

    async def rest(seconds: float) -> None:
        rests.append(seconds)
        await asyncio.sleep(0)

    monkeypatch.setattr(sla, "_fire", timed_fire)
    monkeypatch.setattr(bot.clock, "pause", rest)
    done = await sla.sla_pass(bot.handoff, team, NOON)
    assert done.fired == sla.CHUNK
    # the duty cycle: requests get the loop (and the database) for as long as each step took, so
    # a backlog costs them a share of the time, not a turn behind every step; none after the last
    factor = (1 - sla.DUTY) / sla.DUTY
    assert len(rests) == sla.CHUNK - 1
    assert all(r >= s * factor for s, r in zip(steps, rests, strict=False)), (steps, rests)


async def test_the_leads_are_leased_in_short_transactions(bot: RunningBot, monkeypatch) -> None:
    team = await seed_overdue(bot, 2 * sla.READ + 10)
    sessions: list[tuple[object, int]] = []  # the sessions kept alive: their ids stay unique
    lease = SlaCheckRepo.lease

    async def noting_lease(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        leads = await lease(self, *args, **kwargs)
        sessions.append((self.session, len(leads)))
        return leads

    monkeypatch.setattr(SlaCheckRepo, "lease", noting_lease)
    await sla.sla_pass(bot.handoff, team, NOON, batch=200)
    # at most READ leads a transaction (200 at once hold SQLite's only connection ~9 ms), each
    # its own: a request waiting for the connection goes between two
    assert [n for _, n in sessions] == [sla.READ, sla.READ, 10]
    assert len({id(session) for session, _ in sessions}) == 3
