"""The queue in view (issue 14, item 6): `/handoff status` shows each channel's backlog and how
long it takes to send at Slack's rate; admins get one alert per backlog that would take longer
than HANDOFF_BACKLOG_ALERT_MINUTES, not one per lead."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FrozenClock
from bot.jobs import find_job, run_job
from bot.sandbox import FakeSlack
from bot.services.backlog import JOB_NAME
from tests.conftest import ADMIN, SALES, RunningBot, make_settings, serve_bot
from tests.scenario.helpers_intake import api

JOB = find_job(JOB_NAME)
MONDAY_10 = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)


@pytest.fixture
async def slow_bot(
    engine: AsyncEngine, fake_slack: FakeSlack, clock: FrozenClock, database_url: str
) -> AsyncIterator[RunningBot]:
    # alert when a channel's posts would take more than 30 s at 1 a second; a card per lead (burst
    # detection off: 45 leads in a minute would otherwise go the bulk way, a summary and its thread)
    settings = make_settings(database_url, fake_slack, backlog_alert_minutes=0.5, burst_window_seconds=0)
    async with serve_bot(engine, fake_slack, clock, settings) as running:
        yield running


async def singles(bot: RunningBot, count: int, start: int = 0) -> None:
    for i in range(start, start + count, 10):  # batches of 10: not bulk, a card each
        leads = [{"email": f"s{j}@acme.com", "name": f"S {j}"} for j in range(i, min(i + 10, start + count))]
        status, body, _ = await api(bot, {"leads": leads})
        assert status == 200, body


async def tick(bot: RunningBot, minutes: int) -> None:
    assert JOB is not None
    bot.clock.set(MONDAY_10 + timedelta(minutes=minutes))
    await run_job(bot.handoff, JOB)


def alerts(bot: RunningBot) -> list[str]:
    return [m.text for m in bot.fake.dms(ADMIN) if "queuing up" in m.text]


async def test_status_shows_each_channels_backlog_and_the_time_to_drain_it(slow_bot: RunningBot) -> None:
    bot = slow_bot
    bot.clock.set(MONDAY_10)
    await singles(bot, 45)
    reply = await bot.slack.command(ADMIN, "/handoff", "status", channel_id=SALES)
    text = str(reply.body) + "".join(e.text for e in bot.fake.ephemerals(ADMIN))
    assert f"<#{SALES}>: *45* waiting · about 45 s to send at 1/s" in text


async def test_one_alert_per_backlog_not_per_lead(slow_bot: RunningBot) -> None:
    bot = slow_bot
    bot.clock.set(MONDAY_10)
    await singles(bot, 25)
    await tick(bot, 1)
    await bot.flush()
    assert alerts(bot) == []  # 25 s to drain: under the limit
    await singles(bot, 20, start=25)
    for minute in (2, 3, 4):
        await tick(bot, minute)
        await bot.flush()  # the alert goes out (and so does the backlog)
        await singles(bot, 40, start=100 * minute)  # and builds up again
    [alert] = alerts(bot)
    assert f"<#{SALES}>" in alert and "more than 0.5 min" in alert
    # once the channel has drained, the next backlog is news again
    await bot.flush()
    await tick(bot, 5)
    await singles(bot, 45, start=1000)
    await tick(bot, 6)
    await bot.flush()
    assert len(alerts(bot)) == 2
