"""A bulk drain in one workspace does not starve what a person waits for (issue 14): two workspaces
installed by OAuth, workspace B editing thirty bulk summaries at once (lane 4, chat.update: Slack's
Tier 3, 50 a minute per workspace), then a card update after a click in B and one in C. Both go
in their next turn, while B's bulk edits wait for their share of B's budget. Pacing is measured
on a clock that only moves when the test lets it (no sleeping)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.domain.outbox import Lane
from bot.outbox.pacing import TIER_LIMITS, Pacer
from bot.sandbox import visible_text
from tests.conftest import SALES, RunningBot, oauth_settings, serve_bot
from tests.reliability.helpers import add_lead, card_counts, outbox_rows
from tests.reliability.test_outbox_sender import VirtualTime, sender_for
from tests.scenario.helpers_intake import api
from tests.scenario.test_oauth_install import install

TEAM_B, TEAM_C = "T0BULKY", "T0QUIET"
CHANNELS = [f"C0B{i:02d}" for i in range(30)]


@pytest.fixture
async def two_workspaces(engine, fake_slack, clock, database_url) -> AsyncIterator[RunningBot]:
    async with serve_bot(engine, fake_slack, clock, oauth_settings(database_url, fake_slack)) as bot:
        for n, team in enumerate((TEAM_B, TEAM_C)):
            result = await install(bot, team_id=team, token=f"xoxb-lanes-{n}", code=f"code-lanes-{n}")
            assert result.startswith("200"), result
        for channel in CHANNELS:
            bot.fake.add_channel(channel, name=channel.lower())
        yield bot


async def summaries_in_b(bot: RunningBot) -> list[Any]:
    """Thirty batches in B, one per channel, their summary cards posted (no pacing yet)."""
    handoff = bot.handoff
    async with handoff.open_context(TEAM_B) as ctx:
        batches = [await ctx.uow.batches.add(TEAM_B, c, "Dec webinar", now=ctx.now) for c in CHANNELS]
        for batch in batches:
            await ctx.notifier.post_batch_summary(batch)
    await bot.flush()
    return batches


async def test_a_bulk_drain_in_one_workspace_leaves_its_person_lane_and_another_workspace_a_turn(
    two_workspaces: RunningBot,
) -> None:
    bot, handoff = two_workspaces, two_workspaces.handoff
    batches = await summaries_in_b(bot)
    lead_b = await add_lead(handoff, TEAM_B, email="bea@b.example")
    lead_c = await add_lead(handoff, TEAM_C, email="cal@c.example")
    await bot.flush()
    assert set(card_counts(bot.fake, [SALES])) == {lead_b, lead_c}
    cards = {m.ts for m in bot.fake.messages(SALES) if m.ts}

    # the bulk drain: every summary's count edited (more leads joined), lane 4
    async with handoff.open_context(TEAM_B) as ctx:
        for batch in batches:
            await ctx.notifier.post_batch_summary(batch, edit=True)
    rows = [r for r in await outbox_rows(handoff) if r.status == "pending"]
    assert {(r.method, r.lane) for r in rows} == {("chat.update", Lane.BULK)}

    vt = VirtualTime()
    gate = asyncio.Event()  # time moves only once the test opens the gate

    async def gated_sleep(seconds: float) -> None:
        await gate.wait()
        await vt.sleep(seconds)

    pacer = Pacer.unlimited()
    pacer.tiers, pacer.monotonic, pacer.sleep = dict(TIER_LIMITS), vt.monotonic, gated_sleep
    sender = sender_for(handoff, "paced", pacer=pacer, batch_size=100)
    assert await sender._claim_and_queue(100) == 30
    for _ in range(50):  # the workers take their turns: those that must wait stop at the gate
        await asyncio.sleep(0.01)
    edits_at_once = len(bot.fake.calls_to("chat.update"))
    # half of B's burst of ten: the bulk lane's share, the rest kept for people and hot leads
    assert edits_at_once == 5

    # a rep claims B's lead and C's: each card update (lane 1) goes in its next turn
    for team, lead_id in ((TEAM_B, lead_b), (TEAM_C, lead_c)):
        async with handoff.open_context(team) as ctx:
            lead = await ctx.uow.leads.get(team, lead_id)
            assert lead is not None
            await ctx.notifier.refresh_lead_card(lead)
    assert await sender._claim_and_queue(100) == 2
    for _ in range(100):
        updated = {c.args.get("ts") for c in bot.fake.calls_to("chat.update")} & cards
        if len(updated) == 2:
            break
        await asyncio.sleep(0.01)
    assert len(updated) == 2, "a card update waited behind the other workspace's or its own bulk"
    assert len(bot.fake.calls_to("chat.update")) == edits_at_once + 2  # no bulk edit jumped the gate

    gate.set()
    await sender._settle_all()
    rows = await outbox_rows(handoff)
    assert all(r.status == "sent" for r in rows)
    # the rest of the bulk went once time moved (its rate: tests/unit/test_lane_budget.py)
    edited = [m for c in CHANNELS for m in bot.fake.messages(c)]
    assert len(edited) == 30 and all(len(m.edits) == 1 for m in edited)
    assert all("Dec webinar" in visible_text(m.blocks) for m in edited)


async def test_a_hot_card_does_not_wait_for_a_bulk_edits_share_in_its_channel(bot: RunningBot) -> None:
    """#sales's worker waits for a bulk edit's turn (its share of chat.update is used up); a hot
    lead queued meanwhile goes first, in the channel's own turn for posts, not after the edit."""
    handoff = bot.handoff
    team = await handoff.default_team_id()
    assert team
    async with handoff.open_context(team) as ctx:
        batches = [await ctx.uow.batches.add(team, SALES, f"Campaign {i}", now=ctx.now) for i in range(6)]
        for batch in batches:
            await ctx.notifier.post_batch_summary(batch)
    await bot.flush()
    async with handoff.open_context(team) as ctx:
        for batch in batches:
            await ctx.notifier.post_batch_summary(batch, edit=True)

    vt = VirtualTime()
    gate = asyncio.Event()

    async def gated_sleep(seconds: float) -> None:
        await gate.wait()
        await vt.sleep(seconds)

    pacer = Pacer.unlimited()  # posts at once; chat.update by its tier, the bulk lane by its share
    pacer.tiers, pacer.monotonic, pacer.sleep = dict(TIER_LIMITS), vt.monotonic, gated_sleep
    sender = sender_for(handoff, "paced", pacer=pacer, batch_size=100)
    assert await sender._claim_and_queue(100) == 6
    for _ in range(50):
        await asyncio.sleep(0.01)
    assert len(bot.fake.calls_to("chat.update")) == 5  # the sixth waits for the bulk share

    status, body, _ = await api(bot, {"email": "hattie@bigco.com", "name": "Hattie Hot", "score": 95})
    assert status == 201
    assert await sender._claim_and_queue(100) == 1
    for _ in range(100):
        if body["id"] in card_counts(bot.fake, [SALES]):
            break
        await asyncio.sleep(0.01)
    assert card_counts(bot.fake, [SALES]) == {body["id"]: 1}, "the hot card waited for the bulk edit"
    assert len(bot.fake.calls_to("chat.update")) == 5
    gate.set()
    await sender._settle_all()
    assert len(bot.fake.calls_to("chat.update")) == 6
    assert all(r.status == "sent" for r in await outbox_rows(handoff))
