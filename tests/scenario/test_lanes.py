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
    [single] = await post(bot, lead(100, name="Sam Single", score=40))
    [hot] = await post(bot, lead(101, name="Hattie Hot", score=91))
    [high] = await post(bot, lead(102, name="Priya Priority", score=5, priority="high"))
    rows = {r.lead_id: r for r in await outbox_rows(bot.handoff) if r.purpose == "lead_card"}
    assert rows[hot].lane == rows[high].lane == Lane.HOT
    assert rows[single].lane == Lane.SINGLE
    assert {rows[i].lane for i in bulk if i in rows} <= {Lane.BULK}
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
    """Rows are claimed by rank_at = created_at + the lane's head start: a bulk row queued 11
    minutes ago goes before a hot lead arriving now; one queued 5 minutes ago still waits."""
    handoff = bot.handoff
    team = await handoff.default_team_id()
    assert team
    old_bulk = await post(bot, *(lead(i) for i in range(12)))
    bot.clock.advance(timedelta(minutes=5))
    newer_bulk = await post(bot, *(lead(i) for i in range(20, 32)))
    bot.clock.advance(timedelta(minutes=6))
    [hot] = await post(bot, lead(50, score=99))
    async with handoff.uow() as uow:
        claimed = await uow.outbox.claim_due(
            now=bot.clock.now(), instance="t", lease=timedelta(seconds=60), limit=100
        )
        order = [r.lead_id for r in claimed if r.purpose == "lead_card"]
        await uow.session.rollback()
    old_cards = [i for i in order if i in old_bulk]
    assert order.index(hot) > max(order.index(i) for i in old_cards)  # 11 min old: aged past the hot lead
    newer_cards = [i for i in order if i in newer_bulk]
    assert order.index(hot) < min(order.index(i) for i in newer_cards)  # 6 min old: still behind it


async def test_a_hot_card_claimed_after_a_full_bulk_queue_goes_out_next(bot: RunningBot) -> None:
    """The sender's queue for a channel holds at most a lease's worth of rows; a hot card is claimed
    even when that queue is full, and it goes ahead of the bulk rows already queued."""
    handoff = bot.handoff
    vt = VirtualTime()
    stop = asyncio.Event()
    pacer = Pacer(rate=1.0, burst=1, monotonic=vt.monotonic, sleep=vt.sleep, stop=stop)
    sender = sender_for(handoff, "lanes", pacer=pacer, batch_size=50)
    await post(bot, *(lead(i) for i in range(40)))
    queued = await sender._claim_and_queue(50)
    assert queued >= 15
    bulk_queued = queued
    [hot] = await post(bot, lead(99, name="Hattie Hot", score=90))
    # #sales is full: nothing of the bulk is claimed, the hot card is
    assert await sender._claim_and_queue(50) == 1
    sent_by_then = len(bot.fake.messages(SALES))
    await sender._settle_all()
    cards = [card_lead_id(m.blocks) for m in bot.fake.messages(SALES)]
    cards = [c for c in cards if c is not None]
    assert sent_by_then < bulk_queued - 5
    # next after what had gone, and the one already waiting for its turn
    assert cards.index(hot) <= sent_by_then + 1, cards[:5]
    assert len(cards) == bulk_queued + 1
    rows = await outbox_rows(handoff)
    assert sum(r.status == "sent" for r in rows) == bulk_queued + 1


async def test_a_card_update_never_overtakes_its_card(bot: RunningBot) -> None:
    """An update (lane 1) of a card (lane 4) claimed in the same pass lines up behind the card."""
    handoff = bot.handoff
    ids = await post(bot, *(lead(i) for i in range(12)))
    team = await handoff.default_team_id()
    assert team
    async with handoff.open_context(team) as ctx:
        target = await ctx.uow.leads.get(team, ids[-1])
        assert target is not None
        await ctx.notifier.reply_to_lead(target, "A note for the last lead")
    await handoff.sender.send_due()  # one pass: the note did not have to wait for a later one
    rows: list[Outbox] = await outbox_rows(handoff)
    assert all(r.status == "sent" and r.attempts == 1 for r in rows), [(r.purpose, r.status) for r in rows]
