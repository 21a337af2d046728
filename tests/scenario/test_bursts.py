"""Bursts as bulk (issue 14): a marketing tool posting one request per lead. Past
HANDOFF_BULK_THRESHOLD leads for one channel within HANDOFF_BURST_WINDOW_SECONDS, the further
leads that are not hot join a batch per source/campaign, one summary card edited as the count
grows, the leads listed in its thread; hot leads still get their own card. Two instances taking
the same burst post one summary, and every lead is reachable exactly once."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FrozenClock
from bot.config import Settings
from bot.domain.outbox import Lane
from bot.sandbox import FakeSlack, visible_text
from bot.storage.db import make_engine
from tests.conftest import SALES, RunningBot, serve_bot
from tests.reliability.helpers import card_counts, card_lead_id, outbox_rows
from tests.scenario.helpers_intake import api


def lead(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "email": f"b{i}@example.com",
        "name": f"Burst Guest {i}",
        "company": f"Co {i}",
        "source": "webinar",
        "campaign": "Dec webinar",
        "score": 10 + i % 50,
        **extra,
    }


async def post_one(bot: RunningBot, data: dict[str, Any]) -> int:
    """One lead, one request: what a marketing tool's per-lead webhook sends."""
    status, body, _ = await api(bot, data)
    assert status == 201, body
    return int(body["id"])


def summaries(bot: RunningBot) -> list[Any]:
    return [m for m in bot.fake.messages(SALES) if card_lead_id(m.blocks) is None]


def listed(fake: FakeSlack, summary_ts: str) -> Counter[int]:
    """Every lead listed in a summary's thread, counted."""
    found: Counter[int] = Counter()
    for message in fake.thread(SALES, summary_ts):
        for block in message.blocks:
            match = re.fullmatch(r"bulk_lead_(\d+)", str(block.get("block_id") or ""))
            if match:
                found[int(match.group(1))] += 1
    return found


def reachable(fake: FakeSlack) -> Counter[int]:
    """Each lead's ways in from the channel: its own top-level card, or its line in a summary's thread."""
    found = card_counts(fake, [SALES])
    for message in fake.messages(SALES):
        if card_lead_id(message.blocks) is None:
            found.update(listed(fake, message.ts))
    return found


async def test_one_lead_per_request_past_the_threshold_becomes_one_summary(bot: RunningBot) -> None:
    ids = []
    for i in range(40):  # 40 requests in 40 seconds, one lead each
        ids.append(await post_one(bot, lead(i)))
        bot.clock.advance(timedelta(seconds=1))
    rows = await outbox_rows(bot.handoff)
    cards = [r for r in rows if r.purpose == "lead_card"]
    assert [r.lead_id for r in cards] == ids[:10]  # up to the threshold: a card each, as before
    lines = [r for r in rows if r.purpose == "bulk_lines"]
    assert {r.lane for r in lines} == {Lane.BULK}
    # the leads that joined one by one share the thread messages still waiting to go
    assert [len(r.payload["lead_ids"]) for r in lines] == [20, 10]
    await bot.flush()
    top = bot.fake.messages(SALES)
    assert len(top) == 11  # 10 cards and one summary, not 40 cards
    [summary] = summaries(bot)
    text = visible_text(summary.blocks).replace("*", "")
    assert "Dec webinar: 30 new leads" in text and "30 waiting for a claim" in text
    assert listed(bot.fake, summary.ts) == Counter(ids[10:])
    assert reachable(bot.fake) == Counter(ids)  # every lead once


async def test_the_summary_is_edited_as_the_burst_grows_one_update_per_turn(bot: RunningBot) -> None:
    ids = [await post_one(bot, lead(i)) for i in range(12)]
    await bot.flush()
    [summary] = summaries(bot)
    assert "2 new leads" in visible_text(summary.blocks)
    for wave in range(3):
        for i in range(5):  # five more between two turns of the sender: one update, not five
            ids.append(await post_one(bot, lead(100 + 10 * wave + i)))
        rows = [r for r in await outbox_rows(bot.handoff) if r.status == "pending"]
        assert Counter(r.purpose for r in rows) == {"bulk_summary_update": 1, "bulk_lines": 1}
        await bot.flush()
        summary = bot.fake.message(SALES, summary.ts)
        assert summary is not None
        assert f"Dec webinar: {2 + 5 * (wave + 1)} new leads" in visible_text(summary.blocks).replace("*", "")
    assert len(summary.edits) == 3
    assert len(bot.fake.messages(SALES)) == 11
    assert reachable(bot.fake) == Counter(ids)


async def test_a_hot_lead_in_a_burst_gets_its_own_card_and_the_summary_counts_it(bot: RunningBot) -> None:
    ids = [await post_one(bot, lead(i)) for i in range(15)]
    hot = await post_one(bot, lead(99, name="Hattie Hot", score=95))
    high = await post_one(bot, lead(98, name="Priya Priority", score=5, priority="high"))
    rows = {r.lead_id: r for r in await outbox_rows(bot.handoff) if r.purpose == "lead_card"}
    assert rows[hot].lane == rows[high].lane == Lane.HOT
    await bot.flush()
    counts = card_counts(bot.fake, [SALES])
    assert counts[hot] == counts[high] == 1
    [summary] = summaries(bot)
    assert "Dec webinar: 7 new leads · 2 hot posted on their own" in visible_text(summary.blocks).replace(
        "*", ""
    )
    assert reachable(bot.fake) == Counter([*ids, hot, high])


async def test_one_summary_per_source_and_campaign_and_a_quiet_channel_gets_cards_again(
    bot: RunningBot,
) -> None:
    ids = [await post_one(bot, lead(i, campaign="Dec webinar" if i % 2 else "Jan ebook")) for i in range(30)]
    await bot.flush()
    assert sorted(visible_text(m.blocks).split(":")[0].strip("*") for m in summaries(bot)) == [
        "Dec webinar",
        "Jan ebook",
    ]
    assert reachable(bot.fake) == Counter(ids)
    bot.clock.advance(timedelta(seconds=61))  # the burst is over: the next lead is a single again
    later = await post_one(bot, lead(500))
    await bot.flush()
    assert card_counts(bot.fake, [SALES])[later] == 1
    assert len(summaries(bot)) == 2


@pytest.fixture
async def second_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


async def test_two_instances_taking_one_burst_post_one_summary_and_every_lead_once(
    engine: AsyncEngine,
    second_engine: AsyncEngine,
    fake_slack: FakeSlack,
    clock: FrozenClock,
    settings: Settings,
) -> None:
    """Two build_app instances (each its own engine and connections) on one database, the burst's
    requests alternating between them, eight at a time: one summary per campaign, every lead once."""
    async with (
        serve_bot(engine, fake_slack, clock, settings) as a,
        serve_bot(second_engine, fake_slack, clock, settings) as b,
    ):
        data = [lead(i, campaign=("Dec webinar", "Jan ebook")[i % 2]) for i in range(96)]
        data += [lead(900 + i, score=90 + i) for i in range(4)]  # hot ones, in the middle of it
        order = data[:40] + data[96:] + data[40:96]
        ids: list[int] = []
        for start in range(0, len(order), 8):
            wave = order[start : start + 8]
            ids += await asyncio.gather(*(post_one((a, b)[i % 2], d) for i, d in enumerate(wave)))
        assert len(set(ids)) == 100
        # both senders drain at once: they share the rows (SKIP LOCKED on PostgreSQL)
        await asyncio.gather(a.flush(), b.flush())
        await a.flush()
        rows = await outbox_rows(a.handoff)
        assert all(r.status == "sent" for r in rows), Counter((r.purpose, r.status) for r in rows)
        labels = Counter(visible_text(m.blocks).split(":")[0].strip("*") for m in summaries(a))
        assert labels == {"Dec webinar": 1, "Jan ebook": 1}
        assert reachable(fake_slack) == Counter(ids)  # nothing lost, nothing twice
        cards = card_counts(fake_slack, [SALES])
        # the hot leads have cards of their own; of the rest, only the first few before the burst
        # was seen (concurrent requests cannot see one another's uncommitted leads)
        hot_ids = {ids[order.index(d)] for d in data[96:]}
        assert hot_ids <= set(cards)
        assert len(set(cards) - hot_ids) <= 10 + 8
