"""Faults: a misbehaving Slack (429, 5xx, timeouts, resets, lost answers) and an unreachable one.
Every lead's card is delivered exactly once, every thread reply exactly once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.outbox.pacing import Pacer
from bot.storage.models import Outbox, RoutingRule
from tests.conftest import REP1, REP2, SALES, RunningBot, make_settings, serve_bot
from tests.reliability.helpers import add_lead, card_counts
from tests.reliability.test_outbox_sender import VirtualTime

CHANNELS = [SALES, "C0EMEA", "C0APAC", "C0LATAM", "C0NA", "C0DACH", "C0NORDICS", "C0ANZ"]
REGIONS = ["default", "emea", "apac", "latam", "na", "dach", "nordics", "anz"]
HOT_GROUP = "S0HOT"


@pytest.fixture
async def chaos_bot(engine, fake_slack, clock, database_url) -> AsyncIterator[RunningBot]:
    # a short Slack timeout so "timeout" failures cost little real time; a card per lead (burst
    # detection off: 1,000 leads at one instant would otherwise be listed under summaries)
    settings = make_settings(
        database_url, fake_slack, slack_timeout=0.4, outbox_lease_seconds=30, burst_window_seconds=0
    )
    for channel, region in zip(CHANNELS[1:], REGIONS[1:], strict=True):
        fake_slack.add_channel(channel, name=region, members=[REP1, REP2])
    fake_slack.add_usergroup(HOT_GROUP, handle="hot-leads", users=[REP1])
    async with serve_bot(engine, fake_slack, clock, settings) as running:
        vt = VirtualTime()  # Retry-After waits cost no real time
        pacer = Pacer.unlimited()
        pacer.monotonic, pacer.sleep = vt.monotonic, vt.sleep
        running.handoff.sender.pacer = pacer
        team = await running.handoff.default_team_id()
        async with running.handoff.uow() as uow:
            for i, (channel, region) in enumerate(zip(CHANNELS[1:], REGIONS[1:], strict=True)):
                await uow.rules.add(
                    RoutingRule(
                        team_id=team,
                        name=region,
                        priority=i,
                        regions=[region],
                        channel_id=channel,
                        reps=[],
                        hot_usergroup=HOT_GROUP,
                        hot_score=90,
                        created_at=clock.now(),
                    )
                )
        yield running


async def add_leads(bot: RunningBot, count: int) -> dict[int, bool]:
    """count leads over all channels; every 10th is hot, and hot leads routed by a rule get a thread
    reply. Returns {lead_id: gets a thread reply}."""
    leads = {}
    for i in range(count):
        score = 95 if i % 10 == 0 else 40
        lead_id = await add_lead(
            bot.handoff,
            email=f"lead{i}@example{i % 7}.com",
            name=f"Lead {i}",
            region=REGIONS[i % len(REGIONS)],
            score=score,
        )
        leads[lead_id] = score >= 90 and REGIONS[i % len(REGIONS)] != "default"
    return leads


async def deliver_everything(bot: RunningBot, *, max_rounds: int = 60) -> int:
    """Run the sender until nothing is waiting, moving the clock past every backoff."""
    for rounds in range(1, max_rounds + 1):
        await bot.flush()
        async with bot.handoff.uow() as uow:
            waiting = await uow.session.scalar(
                select(func.count(Outbox.id)).where(Outbox.status.in_(["pending", "sending"]))
            )
        if not waiting:
            return rounds
        await asyncio.sleep(0.3)  # real time for a slow Slack to finish what it was doing
        bot.clock.advance(minutes=10)
    raise AssertionError(f"{waiting} rows still waiting after {max_rounds} rounds")


def thread_replies(bot: RunningBot) -> Counter[str]:
    counts: Counter[str] = Counter()
    for channel in CHANNELS:
        for card in bot.fake.messages(channel):
            for reply in bot.fake.thread(channel, card.ts):
                counts[f"{channel}/{card.ts}/{reply.text}"] += 1
    return counts


@pytest.mark.slow
async def test_twenty_percent_failures_over_1000_leads_deliver_each_card_exactly_once(
    chaos_bot: RunningBot,
) -> None:
    bot = chaos_bot
    leads = await add_leads(bot, 1000)
    bot.fake.chaos(0.2, kinds=("ratelimited", "server_error", "timeout", "reset", "lost"), delay=0.6, seed=7)
    started = time.perf_counter()
    rounds = await deliver_everything(bot)
    elapsed = time.perf_counter() - started
    bot.fake.chaos(0)

    failures = [c for c in bot.fake.calls if c.status != 200]
    kinds = Counter(c.status for c in failures)
    assert len(failures) > 150, kinds  # the chaos really happened
    counts = card_counts(bot.fake, CHANNELS)
    assert set(counts) == set(leads), "lost cards"
    assert max(counts.values()) == 1, f"duplicate cards: {[k for k, v in counts.items() if v > 1]}"
    hot = [lead_id for lead_id, replied in leads.items() if replied]
    replies = thread_replies(bot)
    assert sum(replies.values()) == len(hot) and max(replies.values()) == 1
    async with bot.handoff.uow() as uow:
        statuses = Counter((await uow.session.scalars(select(Outbox.status))).all())
        assert statuses == {"sent": len(leads) + len(hot)}
    print(
        f"\nchaos: {len(bot.fake.calls)} calls, {len(failures)} failed ({dict(kinds)}), "
        f"{bot.handoff.sender.found_count} found already posted, {rounds} rounds, {elapsed:.1f}s"
    )


async def test_slack_unreachable_for_a_while_then_the_queue_drains(chaos_bot: RunningBot) -> None:
    bot = chaos_bot
    bot.fake.unreachable()
    leads = await add_leads(bot, 60)
    for _ in range(6):  # an hour and a half of Slack being down
        await bot.flush()
        bot.clock.advance(minutes=15)
    assert card_counts(bot.fake, CHANNELS) == {}
    async with bot.handoff.uow() as uow:
        statuses = Counter((await uow.session.scalars(select(Outbox.status))).all())
    replies = sum(leads.values())
    assert statuses["failed"] == 0 and statuses["pending"] == 60 + replies
    bot.fake.unreachable(False)
    await deliver_everything(bot)
    counts = card_counts(bot.fake, CHANNELS)
    assert set(counts) == set(leads) and max(counts.values()) == 1
    assert sum(thread_replies(bot).values()) == replies


async def test_a_timed_out_post_is_not_retried_before_slack_must_have_finished(chaos_bot: RunningBot) -> None:
    bot = chaos_bot
    bot.fake.fail("chat.postMessage", kind="timeout", delay=1.0)
    await add_lead(bot.handoff)
    await bot.flush()
    async with bot.handoff.uow() as uow:
        [row] = (await uow.session.scalars(select(Outbox))).all()
    wait = row.next_attempt_at.replace(tzinfo=None) - bot.clock.now().replace(tzinfo=None)
    assert wait >= timedelta(seconds=0.4)
    await asyncio.sleep(0.7)
    await deliver_everything(bot)
    assert len(bot.fake.messages(SALES)) == 1
