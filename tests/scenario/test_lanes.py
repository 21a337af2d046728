"""Priority lanes (issue 14): what a person waits for, then hot leads, then single leads, then
bulk; first in, first out within a lane; a lower lane ages its way up and is never starved."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.domain.outbox import Lane
from bot.outbox.pacing import Pacer
from bot.sandbox import visible_text
from bot.storage.models import Outbox
from tests.conftest import SALES, RunningBot
from tests.reliability.helpers import card_lead_id, outbox_rows
from tests.reliability.test_outbox_sender import VirtualTime, sender_for
from tests.scenario.helpers_intake import api


def lead(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "email": f"w{i}@example.com",
        "name": f"Webinar {i}",
        "company": "Acme",
        "source": "webinar",
        **extra,
    }


async def post(bot: RunningBot, *leads: dict[str, Any]) -> list[int]:
    status, body, _ = await api(bot, {"leads": list(leads)})
    assert status == 200, body
    return [r["id"] for r in body["results"]]


def top_level_names(bot: RunningBot) -> list[str]:
    return [visible_text(m.blocks).split("\n")[0] for m in bot.fake.messages(SALES)]


async def test_hot_and_high_priority_leads_go_out_before_an_earlier_bulk_batch(bot: RunningBot) -> None:
    bulk = await post(bot, *(lead(i) for i in range(30)))
    bot.clock.advance(timedelta(seconds=61))  # past the burst window: a single lead, not a burst's
    [single] = await post(bot, lead(100, name="Sam Single", score=40))
    [hot] = await post(bot, lead(101, name="Hattie Hot", score=91))
    [high] = await post(bot, lead(102, name="Priya Priority", score=5, priority="high"))
    rows = {r.lead_id: r for r in await outbox_rows(bot.handoff) if r.purpose == "lead_card"}
    assert rows[hot].lane == rows[high].lane == Lane.HOT
    assert rows[single].lane == Lane.SINGLE
    assert not set(bulk) & set(rows)  # the batch's leads are listed under one summary instead
    lists = [r for r in await outbox_rows(bot.handoff) if r.purpose == "bulk_lines"]
    assert [r.lane for r in lists] == [Lane.BULK, Lane.BULK]
    await bot.flush()
    order = [card_lead_id(m.blocks) for m in bot.fake.messages(SALES)]
    cards = [i for i in order if i is not None]
    # hot first (in arrival order), then the single lead, then the batch that came before them all
    assert cards[:3] == [hot, high, single]


async def test_within_a_lane_first_in_first_out(bot: RunningBot) -> None:
    ids = []
    for i in range(5):
        ids += await post(bot, lead(i, score=95))
        bot.clock.advance(timedelta(seconds=1))
    await bot.flush()
    assert [card_lead_id(m.blocks) for m in bot.fake.messages(SALES)] == ids


async def test_a_lower_lane_ages_its_way_up_and_is_never_starved(bot: RunningBot) -> None:
    """Rows are claimed by rank_at = created_at + the lane's head start: a bulk list queued 11
    minutes ago goes before a hot lead arriving now; one queued 5 minutes ago still waits."""
    handoff = bot.handoff
    t0 = bot.clock.now()
    await post(bot, *(lead(i) for i in range(12)))
    bot.clock.advance(timedelta(minutes=5))
    await post(bot, *(lead(i, campaign="later") for i in range(20, 32)))
    bot.clock.advance(timedelta(minutes=6))
    [hot] = await post(bot, lead(50, score=99))
    async with handoff.uow() as uow:
        claimed = await uow.outbox.claim_due(
            now=bot.clock.now(), instance="t", lease=timedelta(seconds=60), limit=100
        )
        order = [(r.purpose, r.lead_id, r.created_at - t0) for r in claimed]
        await uow.session.rollback()
    at = order.index(("lead_card", hot, timedelta(minutes=11)))
    old_lists = [i for i, (purpose, _, age) in enumerate(order) if purpose == "bulk_lines" and not age]
    newer_lists = [i for i, (purpose, _, age) in enumerate(order) if purpose == "bulk_lines" and age]
    assert old_lists and newer_lists
    assert max(old_lists) < at  # 11 minutes old: aged past the hot lead
    assert min(newer_lists) > at  # 6 minutes old: still behind it


async def test_a_hot_card_claimed_after_a_full_bulk_queue_goes_out_next(bot: RunningBot) -> None:
    """The sender's queue for a channel holds at most a lease's worth of rows; a hot card is claimed
    even when that queue is full, and it goes ahead of the bulk rows already queued."""
    handoff = bot.handoff
    vt = VirtualTime()
    gate = asyncio.Event()  # the channel's turns come only once the test opens the gate

    async def gated_sleep(seconds: float) -> None:
        await gate.wait()
        await vt.sleep(seconds)

    stop = asyncio.Event()
    pacer = Pacer(rate=1.0, burst=1, monotonic=vt.monotonic, sleep=gated_sleep, stop=stop)
    sender = sender_for(handoff, "lanes", pacer=pacer, batch_size=50)
    team = await handoff.default_team_id()
    assert team
    async with handoff.open_context(team) as ctx:
        for i in range(40):
            await ctx.notifier.post(team, SALES, f"bulk work {i}", lane=Lane.BULK)
    queued = await sender._claim_and_queue(20)
    assert queued == 20  # more than a lease's worth at 1 message a second: #sales is full
    [hot] = await post(bot, lead(99, name="Hattie Hot", score=90))
    # #sales is full: nothing more of the bulk is claimed, the hot card is
    assert await sender._claim_and_queue(50) == 1
    sent_by_then = len(bot.fake.messages(SALES))
    gate.set()
    await sender._settle_all()
    messages = bot.fake.messages(SALES)
    assert sent_by_then < queued - 5
    at = [card_lead_id(m.blocks) for m in messages].index(hot)
    # next after what had gone, and the one already waiting for its turn
    assert at <= sent_by_then + 1, [m.text for m in messages[:5]]
    assert len(messages) == queued + 1


async def test_a_card_update_never_overtakes_its_card(bot: RunningBot) -> None:
    """A reply (lane 1) to a card (lane 3) claimed in the same pass lines up behind the card."""
    handoff = bot.handoff
    [lead_id] = await post(bot, lead(1))
    team = await handoff.default_team_id()
    assert team
    async with handoff.open_context(team) as ctx:
        target = await ctx.uow.leads.get(team, lead_id)
        assert target is not None
        await ctx.notifier.reply_to_lead(target, "A note for the lead")
    rows: list[Outbox] = await outbox_rows(handoff)
    assert [r.lane for r in rows] == [Lane.SINGLE, Lane.PERSON]
    await handoff.sender.send_due()  # one pass: the note did not have to wait for a later one
    rows = await outbox_rows(handoff)
    assert all(r.status == "sent" and r.attempts == 1 for r in rows), [(r.purpose, r.status) for r in rows]
    [card] = bot.fake.messages(SALES)
    assert [m.text for m in bot.fake.thread(SALES, card.ts)] == ["A note for the lead"]


async def test_a_hot_lead_is_claimed_while_the_sender_holds_a_full_batch(bot: RunningBot) -> None:
    """With a batch of bulk rows in flight the sender claims no more of them, but it still claims a
    hot lead's card at once, and the channel's worker sends it in its next turn."""
    handoff = bot.handoff
    team = await handoff.default_team_id()
    assert team
    async with handoff.open_context(team) as ctx:
        for i in range(40):
            await ctx.notifier.post(team, SALES, f"bulk work {i}", lane=Lane.BULK)
    stop = asyncio.Event()
    sender = sender_for(handoff, "running", pacer=Pacer(rate=5.0, burst=1), batch_size=20)
    task = asyncio.create_task(sender.run(stop, idle_poll=30))
    try:
        while not bot.fake.messages(SALES):  # noqa: ASYNC110 - polling the fake
            await asyncio.sleep(0.01)
        assert sender._in_flight > sender._low_water  # a full batch held: no ordinary claim now
        [hot] = await post(bot, lead(99, name="Hattie Hot", score=90))
        sender.wake()
        for _ in range(300):
            if hot in [card_lead_id(m.blocks) for m in bot.fake.messages(SALES)]:
                break
            await asyncio.sleep(0.01)
        sent = [card_lead_id(m.blocks) for m in bot.fake.messages(SALES)]
        assert hot in sent and sent.index(hot) <= 3, len(sent)  # within about one turn at 5/s
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)
