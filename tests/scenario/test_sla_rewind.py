"""After an SLA policy change (a threshold, the calendar) every open lead's stored deadline may be too
late, so the next pass brings their check times back to now — in short transactions of
`sla.REWIND` leads with a turn of the loop between two (issue 22: one UPDATE of 100k leads held
SQLite's only connection and the event loop for seconds). The new policy's fingerprint is recorded
with the last chunk only, so a rewind cut short is finished by the next pass."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app
from bot.domain.events import EventKind
from bot.outbox.pacing import Pacer
from bot.services import sla
from bot.storage.models import Lead, WorkspaceSetting
from bot.storage.sla_checks import SlaCheckRepo
from tests.conftest import SALES, RunningBot
from tests.scenario.test_sla import count_events

NOON = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # a Monday, in working hours
ARRIVED = NOON - timedelta(minutes=20)  # remind after 30 min (the default): due at 12:10
LEADS = 10
CHUNK = 3  # so the rewind takes four chunks: 3, 3, 3, 1


async def seed(bot: RunningBot) -> str:
    """LEADS new leads in #sales that arrived at 11:40, plus a closed lead and another workspace's
    open lead, which no rewind of this workspace touches."""
    team = await bot.handoff.default_team_id()
    assert team is not None
    rows = [
        {"team_id": team, "dedupe_key": f"k{i}", "email": f"l{i}@acme.com", "status": "new",
         "channel_id": SALES, "message_ts": f"1700000000.{i:06d}", "fields": {}, "intake_channel": "api",
         "nurture": False, "created_at": ARRIVED, "updated_at": ARRIVED}
        for i in range(LEADS)
    ]  # fmt: skip
    closed = {**rows[0], "dedupe_key": "closed", "email": "won@acme.com", "status": "won"}
    later = NOON + timedelta(days=1)
    elsewhere = {**rows[0], "team_id": "T0OTHER", "dedupe_key": "other", "sla_check_at": later}
    async with bot.handoff.uow() as uow:
        await uow.session.execute(insert(Lead), [*rows, closed, elsewhere])
    return team


async def check_times(bot: RunningBot) -> dict[str, datetime | None]:
    async with bot.handoff.uow() as uow:
        rows = await uow.session.execute(select(Lead.dedupe_key, Lead.sla_check_at))
        return {key: at.astimezone(UTC) if at is not None else None for key, at in rows}


async def recorded(bot: RunningBot, team: str) -> object:
    async with bot.handoff.uow() as uow:
        return await uow.settings.get(team, sla.POLICY_KEY)


async def change_thresholds(bot: RunningBot, team: str, remind_minutes: int) -> None:
    """What Home → Settings → SLAs writes: the stored deadlines may now be too late."""
    async with bot.handoff.uow() as uow:
        await uow.settings.set(team, "sla_remind_minutes", remind_minutes, by=None, at=NOON)


async def settled_under_the_old_policy(bot: RunningBot) -> tuple[str, object]:
    """The first pass records the policy and writes each lead's deadline: the reminder at 12:10."""
    team = await seed(bot)
    assert (await sla.sla_pass(bot.handoff, team, NOON)).fired == 0
    old = await recorded(bot, team)
    assert old is not None
    times = await check_times(bot)
    assert {times[f"k{i}"] for i in range(LEADS)} == {ARRIVED + timedelta(minutes=30)}
    await change_thresholds(bot, team, 25)  # the reminder now comes at 12:05
    return team, old


@pytest.fixture
def chunks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, object]]:
    """(leads found, the policy recorded as seen from the chunk's transaction), chunk by chunk."""
    monkeypatch.setattr(sla, "REWIND", CHUNK)
    seen: list[tuple[int, object]] = []
    rewind = SlaCheckRepo.rewind

    async def noting_rewind(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        found = await rewind(self, *args, **kwargs)
        value = await self.session.scalar(
            select(WorkspaceSetting.value).where(WorkspaceSetting.key == sla.POLICY_KEY)
        )
        seen.append((found, value))
        return found

    monkeypatch.setattr(SlaCheckRepo, "rewind", noting_rewind)
    return seen


async def test_a_threshold_change_rewinds_every_open_lead_in_chunks(
    bot: RunningBot, chunks: list[tuple[int, object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    team, old = await settled_under_the_old_policy(bot)
    recorded_in: list[int] = []
    record = sla._record_policy

    async def noting_record(uow, *args, **kwargs):  # type: ignore[no-untyped-def]
        recorded_in.append(len(chunks))  # how many chunks had run when the policy was recorded
        await record(uow, *args, **kwargs)

    monkeypatch.setattr(sla, "_record_policy", noting_record)
    later = NOON + timedelta(minutes=1)
    done = await sla.sla_pass(bot.handoff, team, later)
    # every open lead, CHUNK a transaction; the policy recorded with the last chunk only
    assert chunks == [(CHUNK, old)] * 3 + [(1, old)]
    assert recorded_in == [4]
    assert await recorded(bot, team) not in (None, old)
    assert done.judged == LEADS and done.fired == 0  # judged again: the reminder is due at 12:05
    times = await check_times(bot)
    assert {times[f"k{i}"] for i in range(LEADS)} == {ARRIVED + timedelta(minutes=25)}
    assert times["closed"] is None
    assert times["other"] == NOON + timedelta(days=1)  # another workspace's lead is left alone

    fired = await sla.sla_pass(bot.handoff, team, NOON + timedelta(minutes=5))
    assert fired.fired == LEADS  # at 12:05, under the new threshold (not 12:10)
    assert await count_events(bot, EventKind.SLA_REMINDER) == LEADS
    chunks.clear()
    await sla.sla_pass(bot.handoff, team, NOON + timedelta(minutes=6))
    assert chunks == []  # the policy is recorded: no rewind again
    assert await count_events(bot, EventKind.SLA_REMINDER) == LEADS


async def test_a_rewind_cut_short_is_finished_by_the_next_pass(
    bot: RunningBot, chunks: list[tuple[int, object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    team, old = await settled_under_the_old_policy(bot)
    rewind = SlaCheckRepo.rewind  # noting_rewind

    async def crashing_rewind(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        found = await rewind(self, *args, **kwargs)
        if len(chunks) == 2:
            raise RuntimeError("the instance died in the second chunk's transaction")
        return found

    monkeypatch.setattr(SlaCheckRepo, "rewind", crashing_rewind)
    later = NOON + timedelta(minutes=1)
    with pytest.raises(RuntimeError):
        await sla.sla_pass(bot.handoff, team, later)
    assert await recorded(bot, team) == old  # not recorded: the next pass rewinds again
    times = await check_times(bot)
    rewound = [i for i in range(LEADS) if times[f"k{i}"] == later]
    assert len(rewound) == CHUNK  # the first chunk's commit stands, the second was rolled back
    assert all(times[f"k{i}"] == ARRIVED + timedelta(minutes=30) for i in range(LEADS) if i not in rewound)

    monkeypatch.setattr(SlaCheckRepo, "rewind", rewind)
    chunks.clear()
    done = await sla.sla_pass(bot.handoff, team, NOON + timedelta(minutes=2))
    # the leads rewound before the crash are not picked again (their check time is before now)
    assert [found for found, _ in chunks] == [CHUNK, CHUNK, 1]
    assert await recorded(bot, team) not in (None, old)
    assert done.judged == LEADS
    times = await check_times(bot)
    assert {times[f"k{i}"] for i in range(LEADS)} == {ARRIVED + timedelta(minutes=25)}

    assert (await sla.sla_pass(bot.handoff, team, NOON + timedelta(minutes=5))).fired == LEADS
    assert await count_events(bot, EventKind.SLA_REMINDER) == LEADS


async def test_a_request_goes_between_two_chunks(
    bot: RunningBot, chunks: list[tuple[int, object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    team, _ = await settled_under_the_old_policy(bot)
    order: list[str] = []
    asked, served = asyncio.Event(), asyncio.Event()
    rewind = SlaCheckRepo.rewind  # noting_rewind

    async def asking_rewind(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        first = not chunks
        found = await rewind(self, *args, **kwargs)
        if not first:
            # the second chunk's transaction (its connection in hand) goes on only once the request
            # is served: on SQLite, had the request not taken the only connection between the two
            # chunks, it would wait for this transaction, and this one for it (the timeout fails)
            await asyncio.wait_for(served.wait(), timeout=10)
        order.append("chunk")
        asked.set()  # a request asks while the first chunk's transaction holds the connection
        return found

    async def request() -> None:  # e.g. a Claim's write
        await asked.wait()
        async with bot.handoff.uow() as uow:
            await uow.settings.set(team, "a_request_was_here", True, by=None, at=NOON)
        order.append("request")
        served.set()

    monkeypatch.setattr(SlaCheckRepo, "rewind", asking_rewind)
    waiting = asyncio.create_task(request())
    await sla.sla_pass(bot.handoff, team, NOON + timedelta(minutes=1))
    await waiting
    # the request went right after the first chunk, not after the whole rewind
    assert order == ["chunk", "request", "chunk", "chunk", "chunk"], order
    assert await recorded(bot, team) is not None


async def test_two_instances_rewind_at_once_and_remind_once(
    bot: RunningBot, chunks: list[tuple[int, object]], engine: AsyncEngine
) -> None:
    team, old = await settled_under_the_old_policy(bot)
    other = build_app(
        bot.handoff.settings, engine=engine, clock=bot.clock, pacer=Pacer(rate=1000, burst=1000)
    )
    try:
        for minute in (1, 5):
            at = NOON + timedelta(minutes=minute)
            await asyncio.gather(sla.sla_pass(bot.handoff, team, at), sla.sla_pass(other, team, at))
    finally:
        await other.close()
    await bot.flush()
    assert await recorded(bot, team) not in (None, old)
    assert await count_events(bot, EventKind.SLA_REMINDER) == LEADS


def test_a_chunk_that_held_the_loop_long_makes_the_next_one_smaller() -> None:
    """Each chunk aims at REWIND_HOLD of the loop's time: on SQLite 200 leads held it 40-55 ms."""
    assert sla.next_chunk(200, 4 * sla.REWIND_HOLD) == 50
    assert sla.next_chunk(50, sla.REWIND_HOLD / 2) == 100  # a quicker database: back up
    assert sla.next_chunk(100, sla.REWIND_HOLD / 10) == sla.REWIND  # never past the most
    assert sla.next_chunk(200, 100 * sla.REWIND_HOLD) == sla.REWIND_MIN  # never below the least
    assert sla.next_chunk(200, 0.0) == sla.REWIND
