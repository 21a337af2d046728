"""Assign mode (issue 14, item 3): a rule with mode=assign offers each lead to the next rep by
round robin in a DM with Accept / Pass; Pass or no answer within the rule's reminder time hands it
to the next rep; the channel sees one line; with nobody left, the card goes to the channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.domain.events import EventKind
from bot.sandbox import buttons, visible_text
from bot.storage.models import LeadEvent
from tests.conftest import ADMIN, REP1, REP2, SALES, RunningBot
from tests.reliability.helpers import card_lead_id
from tests.scenario.helpers_intake import api
from tests.scenario.test_sla import tick

REP3 = "U0REP3"
MONDAY_10 = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)


async def assign_rule(bot: RunningBot, reps: str) -> str:
    bot.fake.add_user(REP3, name="ray", real_name="Ray Rep")
    bot.fake.channels[SALES].members.add(REP3)
    add = f'route add "Inbound" channel=<#{SALES}|sales> reps={reps} mode=assign'
    await bot.slack.command(ADMIN, "/handoff", add, channel_id=SALES)
    listed = await bot.slack.command(ADMIN, "/handoff", "route list", channel_id=SALES)
    return listed.text


async def new_lead(bot: RunningBot, **extra: object) -> int:
    status, body, _ = await api(
        bot, {"email": "dana@acme.com", "name": "Dana Demo", "company": "Acme", **extra}
    )
    assert status == 201, body
    return int(body["id"])


def offer(bot: RunningBot, rep: str) -> list[str]:
    """The buttons on `rep`'s latest DM from Handoff, and its text."""
    dms = bot.fake.dms(rep)
    assert dms, f"{rep} has no DM"
    return [b["text"] for b in buttons(dms[-1].blocks)] + [visible_text(dms[-1].blocks)]


async def events(bot: RunningBot, lead_id: int, kind: EventKind) -> list[dict[str, object]]:
    async with bot.handoff.uow() as uow:
        rows = await uow.session.scalars(
            select(LeadEvent)
            .where(LeadEvent.lead_id == lead_id, LeadEvent.kind == kind)
            .order_by(LeadEvent.id)
        )
        return [dict(e.data) for e in rows]


async def test_pass_and_no_answer_hand_the_lead_on_until_a_rep_accepts(bot: RunningBot) -> None:
    listed = await assign_rule(bot, f"<@{REP1}>,<@{REP2}>,<@{REP3}>")
    assert "mode=assign" in listed
    bot.clock.set(MONDAY_10)
    lead_id = await new_lead(bot)
    await bot.flush()
    # the channel sees one line; the first rep in the rotation gets the lead by DM
    [notice] = bot.fake.messages(SALES)
    assert (
        notice.text
        == f"New lead #{lead_id}, Dana Demo · Acme: offered to <@{REP1}> by round robin (rule “Inbound”)."
    )
    assert offer(bot, REP1)[:2] == ["Accept", "Pass"]
    # Pass: the next rep
    await bot.slack.click(REP1, "Pass")
    await bot.flush()
    assert offer(bot, REP1)[0].endswith("went on to the next rep.")
    assert offer(bot, REP2)[:2] == ["Accept", "Pass"]
    # no answer within the reminder time (30 working minutes): the next rep
    await tick(bot, MONDAY_10 + timedelta(minutes=29))
    assert bot.fake.dms(REP3) == []
    await tick(bot, MONDAY_10 + timedelta(minutes=30))
    assert offer(bot, REP2)[0].endswith("went on to the next rep.")
    assert offer(bot, REP3)[:2] == ["Accept", "Pass"]
    assert len(bot.fake.dms(REP2)) == 1  # the same DM, edited: no second message
    await bot.slack.click(REP3, "Accept")
    await bot.flush()
    assert "You accepted" in offer(bot, REP3)[0] and f"<#{SALES}>" in offer(bot, REP3)[0]
    cards = [m for m in bot.fake.messages(SALES) if card_lead_id(m.blocks) == lead_id]
    [card] = cards
    assert f"Claimed by <@{REP3}>" in visible_text(card.blocks)
    assert [b["text"] for b in buttons(card.blocks)] == [
        "Accept",
        "Reject",
        "Release",
        "Details",
        "Remind me",
    ]
    # every decision's why is in the lead's history
    assert [e["to"] for e in await events(bot, lead_id, EventKind.OFFERED)] == [REP1, REP2, REP3]
    assert [e["why"] for e in await events(bot, lead_id, EventKind.OFFER_PASSED)] == ["passed", "no answer"]
    # and no reminder was posted for a lead that was on offer
    assert await events(bot, lead_id, EventKind.SLA_REMINDER) == []


async def test_with_every_rep_passed_the_card_goes_to_the_channel(bot: RunningBot) -> None:
    await assign_rule(bot, f"<@{REP1}>,<@{REP2}>")
    bot.clock.set(MONDAY_10)
    lead_id = await new_lead(bot)
    await bot.flush()
    await bot.slack.click(REP1, "Pass")
    await bot.flush()
    await bot.slack.click(REP2, "Pass")
    await bot.flush()
    [card] = [m for m in bot.fake.messages(SALES) if card_lead_id(m.blocks) == lead_id]
    assert buttons(card.blocks)[0]["text"] == "Claim"
    await bot.slack.click(REP1, "Claim", channel_id=SALES, message_ts=card.ts)
    await bot.flush()
    assert f"Claimed by <@{REP1}>" in visible_text(bot.fake.message(SALES, card.ts).blocks)  # type: ignore[union-attr]


async def test_only_the_rep_it_is_offered_to_can_accept(bot: RunningBot) -> None:
    await assign_rule(bot, f"<@{REP1}>,<@{REP2}>")
    lead_id = await new_lead(bot)
    await bot.flush()
    dm = bot.fake.dms(REP1)[-1]
    # REP2 forges a click on REP1's offer
    reply = await bot.slack.click(REP2, "Accept", channel_id=dm.channel, message_ts=dm.ts)
    assert reply.status == 200
    await bot.flush()
    assert "no longer offered to you" in bot.fake.ephemerals(REP2)[-1].text
    assert offer(bot, REP1)[:2] == ["Accept", "Pass"]
    assert [e["to"] for e in await events(bot, lead_id, EventKind.OFFERED)] == [REP1]


async def test_route_test_says_the_rule_assigns(bot: RunningBot) -> None:
    await assign_rule(bot, f"<@{REP1}>,<@{REP2}>")
    reply = await bot.slack.command(ADMIN, "/handoff", "route test region=emea", channel_id=SALES)
    text = reply.text
    assert "Assign mode" in text and f"<@{REP1}>" in text
