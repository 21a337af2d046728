"""The weekly digest's chart is drawn after the numbers' transaction closed and off the event loop,
so on SQLite (one pooled connection) it holds nobody's claim back; a failed render queues nothing
and leaves the week to a later run (#23, part 3)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FrozenClock
from bot.config import Settings
from bot.services import digest as digest_service
from bot.storage.models import Outbox, ScheduleSlot
from tests.metrics_fixture import NOW, insert_history
from tests.scenario.test_digest import make


async def count(engine: AsyncEngine, model: type) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_chart_renders_in_a_thread_with_no_connection_held(
    engine: AsyncEngine, fake_slack, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await insert_history(engine, fake_slack.team_id)
    seen: list[tuple[bool, int]] = []
    real = digest_service.chart_png

    def watched(digest: digest_service.Digest) -> bytes:
        on_loop_thread = threading.current_thread() is threading.main_thread()
        seen.append((on_loop_thread, engine.sync_engine.pool.checkedout()))
        return real(digest)

    monkeypatch.setattr(digest_service, "chart_png", watched)
    handoff = make(settings, engine, FrozenClock(NOW))
    try:
        assert await digest_service.run_weekly_digest(handoff, fake_slack.team_id, NOW) is True
    finally:
        await handoff.close()
    assert seen == [(False, 0)]  # a worker thread, and no connection checked out meanwhile
    assert await count(engine, Outbox) >= 2  # the message and the chart, queued together


async def test_a_failed_render_queues_nothing_and_a_later_run_posts(
    engine: AsyncEngine, fake_slack, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await insert_history(engine, fake_slack.team_id)
    before = await count(engine, Outbox)
    real = digest_service.chart_png

    def broken(digest: digest_service.Digest) -> bytes:
        raise RuntimeError("matplotlib fell over")

    handoff = make(settings, engine, FrozenClock(NOW))
    try:
        monkeypatch.setattr(digest_service, "chart_png", broken)
        with pytest.raises(RuntimeError):
            await digest_service.run_weekly_digest(handoff, fake_slack.team_id, NOW)
        assert (await count(engine, Outbox), await count(engine, ScheduleSlot)) == (before, 0)
        monkeypatch.setattr(digest_service, "chart_png", real)
        assert await digest_service.run_weekly_digest(handoff, fake_slack.team_id, NOW) is True
        assert await digest_service.run_weekly_digest(handoff, fake_slack.team_id, NOW) is False
    finally:
        await handoff.close()
    assert await count(engine, Outbox) == before + 2
