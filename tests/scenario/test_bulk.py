"""Bulk without a flood (issue 14): a batch of more than HANDOFF_BULK_THRESHOLD leads for one
channel becomes one summary card per source/campaign, the leads listed in its thread, each with
its own Claim, and "Claim next" on the summary; hot leads keep their own card; nothing is lost
and nothing is posted twice, across a stop or a crash in the middle of the drain."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FrozenClock
from bot.config import Settings
from bot.outbox.pacing import Pacer
from bot.sandbox import FakeSlack, buttons, visible_text
from bot.slack.blocks.bulk import line_block_id
from tests.conftest import REP1, REP2, SALES, RunningBot, serve_bot
from tests.reliability.helpers import card_counts, card_lead_id, outbox_rows
from tests.reliability.test_outbox_sender import sender_for
from tests.scenario.helpers_intake import api


def lead(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "email": f"w{i}@example.com",
        "name": f"Webinar Guest {i}",
        "company": f"Co {i}",
        "source": "webinar",
        "campaign": "Dec webinar",
        "score": 10 + i % 50,
        **extra,
    }


async def post(bot: RunningBot, leads: list[dict[str, Any]]) -> list[int]:
    status, body, _ = await api(bot, {"leads": leads})
    assert status == 200, body
    assert body["created"] == len(leads)
    return [r["id"] for r in body["results"]]


def listed_ids(bot: RunningBot, summary_ts: str) -> Counter[int]:
    """Every lead ID listed in the summary's thread ("· #42"), counted."""
    found: Counter[int] = Counter()
    for message in bot.fake.thread(SALES, summary_ts):
        for block in message.blocks:
            match = re.fullmatch(r"bulk_lead_(\d+)", str(block.get("block_id") or ""))
            if match:
                found[int(match.group(1))] += 1
    return found


async def test_a_batch_becomes_one_summary_with_every_lead_in_its_thread(bot: RunningBot) -> None:
    leads = [lead(i) for i in range(42)] + [lead(100 + i, score=90 + i) for i in range(3)]
    ids = await post(bot, leads)
    hot = ids[-3:]
    await bot.flush()
    top = bot.fake.messages(SALES)
    assert len(top) == 4  # three hot cards of their own and one summary, not 45 cards
    assert sorted(i for i in (card_lead_id(m.blocks) for m in top) if i) == sorted(hot)
    [summary] = [m for m in top if card_lead_id(m.blocks) is None]
    text = visible_text(summary.blocks)
    assert "Dec webinar: 45 new leads · 3 hot posted on their own" in text.replace("*", "")
    assert "42 waiting for a claim" in text
    assert [b["text"] for b in buttons(summary.blocks)] == ["Claim next"]
    # every bulk lead is listed once in the thread, in compact messages of 20
    thread = bot.fake.thread(SALES, summary.ts)
    assert [len(m.blocks) for m in thread] == [20, 20, 2]
    assert listed_ids(bot, summary.ts) == Counter(ids[:42])
    assert all(b["text"] == "Claim" for m in thread for b in buttons(m.blocks))


async def test_claim_from_the_thread_posts_the_card_there_and_marks_the_line(bot: RunningBot) -> None:
    ids = await post(bot, [lead(i) for i in range(15)])
    await bot.flush()
    [summary] = bot.fake.messages(SALES)
    target = ids[7]
    reply = await bot.slack.click(REP1, "Claim", channel_id=SALES, block_id=line_block_id(target))
    assert reply.status == 200
    await bot.flush()
    thread = bot.fake.thread(SALES, summary.ts)
    [line] = [m for m in thread if any(b.get("block_id") == line_block_id(target) for b in m.blocks)]
    [block] = [b for b in line.blocks if b.get("block_id") == line_block_id(target)]
    assert f"Claimed by <@{REP1}>" in visible_text([block])
    assert "accessory" not in block  # no Claim button on a claimed lead
    assert len(line.edits) == 1
    # the owner's card, with the next steps, in the summary's thread
    [card] = [m for m in thread if card_lead_id(m.blocks) == target]
    assert [b["text"] for b in buttons(card.blocks)] == [
        "Accept",
        "Reject",
        "Release",
        "Details",
        "Remind me",
    ]
    assert f"Claimed by <@{REP1}>" in visible_text(card.blocks)
    # another rep claims the next lead on the same message: both show who has them
    await bot.slack.click(REP2, "Claim", channel_id=SALES, message_ts=line.ts, block_id=line_block_id(ids[8]))
    await bot.flush()
    line = bot.fake.message(SALES, line.ts)
    assert line is not None and len(line.edits) == 2
    assert f"Claimed by <@{REP1}>" in visible_text(line.blocks)
    assert f"Claimed by <@{REP2}>" in visible_text(line.blocks)
    assert [b["text"] for b in buttons(line.blocks)] == ["Claim"] * 13
    assert len(bot.fake.messages(SALES)) == 1  # still one top-level message
    summary = bot.fake.message(SALES, summary.ts)
    assert summary is not None and "13 waiting for a claim" in visible_text(summary.blocks)


async def test_claim_next_hands_out_the_best_unclaimed_lead_until_none_is_left(bot: RunningBot) -> None:
    scores = [30, 75, 50, 75, 20, 60, 10, 40, 55, 65, 45]
    ids = await post(bot, [lead(i, score=s) for i, s in enumerate(scores)])
    await bot.flush()
    [summary] = bot.fake.messages(SALES)
    got = []
    for user in [REP1, REP2, REP1]:
        await bot.slack.click(user, "Claim next", channel_id=SALES)
        await bot.flush()
        told = bot.fake.ephemerals(user)[-1].text
        got.append(int(re.search(r"lead #(\d+)", told).group(1)))  # type: ignore[union-attr]
    # highest score first; of two equal scores the one that came first
    assert got == [ids[1], ids[3], ids[9]]
    thread = bot.fake.thread(SALES, summary.ts)
    assert sorted(i for i in (card_lead_id(m.blocks) for m in thread) if i) == sorted(got)
    for _ in range(len(ids) - 3):
        await bot.slack.click(REP2, "Claim next", channel_id=SALES, message_ts=summary.ts)
    # a click on the button before the summary's update reached Slack: nothing left to hand out
    await bot.slack.click(REP1, "Claim next", channel_id=SALES, message_ts=summary.ts)
    assert "Every lead of this batch has been claimed." in bot.fake.ephemerals(REP1)[-1].text
    await bot.flush()
    assert buttons(bot.fake.messages(SALES)[0].blocks) == []  # nothing left to claim: no button
    assert "0 waiting for a claim" in visible_text(bot.fake.messages(SALES)[0].blocks)
    assert len(bot.fake.messages(SALES)) == 1


async def test_the_next_chunk_of_the_same_import_joins_the_summary(bot: RunningBot) -> None:
    first = await post(bot, [lead(i) for i in range(20)])
    await bot.flush()
    second = await post(bot, [lead(i) for i in range(20, 35)])
    other = await post(bot, [lead(i, campaign="Jan ebook", email=f"e{i}@example.com") for i in range(12)])
    await bot.flush()
    top = bot.fake.messages(SALES)
    assert len(top) == 2  # one summary per campaign
    dec = next(m for m in top if "Dec webinar" in visible_text(m.blocks))
    assert "Dec webinar: 35 new leads" in visible_text(dec.blocks).replace("*", "")
    assert len(dec.edits) == 1
    assert listed_ids(bot, dec.ts) == Counter(first + second)
    jan = next(m for m in top if "Jan ebook" in visible_text(m.blocks))
    assert listed_ids(bot, jan.ts) == Counter(other)


async def test_a_small_batch_still_gets_a_card_per_lead(bot: RunningBot) -> None:
    ids = await post(bot, [lead(i) for i in range(10)])  # not more than the threshold
    await bot.flush()
    assert sorted(card_counts(bot.fake, [SALES])) == sorted(ids)


async def test_every_bulk_lead_stays_findable(bot: RunningBot) -> None:
    ids = await post(bot, [lead(i) for i in range(12)])
    await bot.flush()
    status, body, _ = await api(bot, method="GET", path=f"/api/leads/{ids[5]}")
    assert status == 200 and body["status"] == "new" and body["email"] == "w5@example.com"
    reply = await bot.slack.command(REP1, "/lead", "find w5@example.com", channel_id=SALES)
    assert reply.status == 200
    assert "Webinar Guest 5" in str(reply.body) + "".join(e.text for e in bot.fake.ephemerals(REP1))


async def test_a_stop_and_a_crash_in_the_middle_of_a_bulk_drain_lose_nothing_and_post_nothing_twice(
    engine: AsyncEngine, fake_slack: FakeSlack, clock: FrozenClock, settings: Settings
) -> None:
    async with serve_bot(engine, fake_slack, clock, settings) as bot:
        ids = await post(bot, [lead(i) for i in range(120)] + [lead(500, score=95)])
        handoff = bot.handoff
        # instance A is stopped in the middle of the drain: a paced sender, stopped while rows wait
        stop = asyncio.Event()
        stopper = sender_for(handoff, "stopper", pacer=Pacer(rate=5, burst=1), batch_size=50)
        task = asyncio.create_task(stopper.run(stop))
        while len(fake_slack.messages(SALES, include_threads=True)) < 4:  # noqa: ASYNC110 - polling the fake
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        # instance B posts three more lists, then dies before recording what it posted
        dead = sender_for(handoff, "dead-instance", pacer=Pacer.unlimited(), batch_size=3)

        async def die(*args: object) -> None:
            raise RuntimeError("killed")

        dead.writer.write = die  # type: ignore[method-assign]
        assert await dead.send_due() == 3
        posted = len(fake_slack.messages(SALES, include_threads=True))
        assert 7 <= posted < 8  # the hot card, the summary, 2 lists by A, 3 by B; 3 lists to go
    clock.advance(seconds=61)  # A's lease runs out
    async with serve_bot(engine, fake_slack, clock, settings) as bot:  # the restart
        await bot.flush()
        rows = await outbox_rows(bot.handoff)
        assert all(r.status == "sent" for r in rows), Counter((r.purpose, r.status) for r in rows)
        top = fake_slack.messages(SALES)
        assert len(top) == 2  # the hot card and one summary: nothing posted twice
        assert card_counts(fake_slack, [SALES]) == {ids[-1]: 1}
        [summary] = [m for m in top if card_lead_id(m.blocks) is None]
        assert listed_ids(bot, summary.ts) == Counter(ids[:120])  # every lead listed, once
        assert bot.handoff.sender.found_count >= 1  # what A posted was found, not posted again


async def test_a_csv_import_in_chunks_gets_one_summary(bot: RunningBot) -> None:
    from tests.scenario.test_csv_import import run_import

    rows = ["Email,First Name,Last Name,Company,Original Source"]
    rows += [f"c{i}@example.com,Cara,No{i},Co{i},Trade show" for i in range(105)]  # chunks of 100 and 5
    summary = await run_import(bot, "\n".join(rows) + "\n")
    assert summary.created == 105
    await bot.flush()
    [card] = bot.fake.messages(SALES)
    assert "trade show: 105 new leads" in visible_text(card.blocks).replace("*", "")
    assert sum(listed_ids(bot, card.ts).values()) == 105


async def test_concurrent_batches_of_one_import_share_one_summary_and_every_lead_is_listed(
    bot: RunningBot,
) -> None:
    chunks = [[lead(i) for i in range(start, start + 30)] for start in range(0, 150, 30)]
    results = await asyncio.gather(*(post(bot, chunk) for chunk in chunks))
    await bot.flush()
    top = bot.fake.messages(SALES)
    assert len(top) == 1, [m.text for m in top]
    assert "Dec webinar: 150 new leads" in visible_text(top[0].blocks).replace("*", "")
    assert listed_ids(bot, top[0].ts) == Counter(i for ids in results for i in ids)
    assert all(r.status == "sent" for r in await outbox_rows(bot.handoff))
