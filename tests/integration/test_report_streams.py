"""A streamed report (the digest's speed to lead, a week of up to 100k leads) steps through its rows
off the event loop on SQLite, a chunk at a time, while the caller's own statements between two
chunks stay on the loop (issue 22: the digest held the loop over 50 ms 15 times at 100k leads)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text

from bot.storage import sqlite_driver
from bot.storage.models import Lead
from tests.conftest import SALES, RunningBot, is_postgres

NOON = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


async def test_speed_rows_are_fetched_off_the_loop(bot: RunningBot, database_url: str, monkeypatch) -> None:
    if is_postgres(database_url):
        pytest.skip("SQLite's calls run on the loop; asyncpg's never do")
    team = await bot.handoff.default_team_id()
    assert team is not None
    rows = [
        {"team_id": team, "dedupe_key": f"k{i}", "email": f"l{i}@acme.com", "status": "new", "channel_id": SALES,
         "fields": {}, "intake_channel": "api", "nurture": False, "created_at": NOON - timedelta(hours=1 + i % 48),
         "updated_at": NOON}
        for i in range(25)
    ]  # fmt: skip
    async with bot.handoff.uow() as uow:
        await uow.session.execute(insert(Lead), rows)

    loop_thread = threading.get_ident()
    ran: list[tuple[str, bool]] = []  # (call, on the loop's thread)
    fetched: list[bool] = []  # each fetch of rows: on the loop's thread?
    execute = sqlite_driver.LoopConnection._execute

    async def spy(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        def call(*a, **k):  # type: ignore[no-untyped-def]
            ran.append((name, threading.get_ident() == loop_thread))
            if name.startswith("fetch") and not caller:
                fetched.append(ran[-1][1])
            return fn(*a, **k)

        name = call.__name__ = getattr(fn, "__name__", "")
        return await execute(self, call, *args, **kwargs)

    monkeypatch.setattr(sqlite_driver.LoopConnection, "_execute", spy)
    seen, caller = 0, False
    async with bot.handoff.uow() as uow:
        async for chunk in uow.reports.speed_row_chunks(team, NOON - timedelta(days=7), NOON, size=10):
            seen += len(chunk)
            ran.clear()
            caller = True
            await uow.session.execute(text("SELECT 1"))  # the caller's own, between two chunks
            caller = False
            assert ran and all(on_loop for _, on_loop in ran), ran
    assert seen == 25
    assert len(fetched) >= 3 and not any(fetched), fetched
