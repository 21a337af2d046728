"""The spine: a lead stored by the intake service becomes one card; the first Claim wins."""

from __future__ import annotations

import asyncio

import pytest

from bot.domain.lead_input import parse_lead
from bot.sandbox import buttons, visible_text
from bot.services.intake import submit_lead
from tests.conftest import ADMIN, MODES, OUTSIDER, REP1, REP2, SALES, RunningBot


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Every scenario here that runs the bot runs it over HTTP and over Socket Mode."""
    return str(request.param)


async def add_lead(bot: RunningBot, **fields: object) -> int:
    data = {"email": "jane@acme.com", "name": "Jane Doe", "company": "Acme", "source": "webinar", **fields}
    team = await bot.handoff.default_team_id()
    async with bot.handoff.open_context(team) as ctx:
        result = await submit_lead(ctx, parse_lead(data), origin="api")
    await bot.flush()
    return result.lead.id


async def test_lead_becomes_one_card_with_claim_button(bot: RunningBot) -> None:
    await add_lead(bot)
    [card] = bot.fake.messages(SALES)
    assert "Jane Doe · Acme" in visible_text(card.blocks)
    assert [b["text"] for b in buttons(card.blocks)][:1] == ["Claim"]
    assert card.text.startswith("New lead")


async def test_card_ts_is_stored_so_claim_edits_the_same_message(bot: RunningBot) -> None:
    await add_lead(bot)
    reply = await bot.slack.click(REP1, "Claim", channel_id=SALES)
    assert reply.status == 200
    await bot.flush()
    [card] = bot.fake.messages(SALES)
    assert len(card.edits) == 1
    text = visible_text(card.blocks)
    assert f"Claimed by <@{REP1}>" in text and "0 min after arrival" in text
    assert [b["text"] for b in buttons(card.blocks)] == [
        "Accept",
        "Reject",
        "Release",
        "Details",
        "Remind me",
    ]


async def test_twenty_simultaneous_claims_have_one_winner(bot: RunningBot) -> None:
    users = [f"U0REPX{i:02d}" for i in range(20)]
    for user in users:
        bot.fake.add_user(user, name=user.lower())
    bot.fake.channels[SALES].members.update(users)
    await add_lead(bot)
    card = bot.fake.latest(SALES)
    replies = await asyncio.gather(
        *(bot.slack.click(u, "Claim", channel_id=SALES, message_ts=card.ts) for u in users)
    )
    assert all(r.status == 200 for r in replies)
    await bot.flush()
    card = bot.fake.latest(SALES)
    assert len(card.edits) == 1
    winners = [u for u in users if f"Claimed by <@{u}>" in visible_text(card.blocks)]
    assert len(winners) == 1
    refusals = bot.fake.ephemerals()
    assert len(refusals) == 19
    assert {e.user for e in refusals} == set(users) - set(winners)
    assert all(f"<@{winners[0]}> already claimed" in e.text for e in refusals)


async def test_outsider_cannot_claim(bot: RunningBot) -> None:
    await add_lead(bot)
    await bot.slack.click(OUTSIDER, "Claim", channel_id=SALES)
    await bot.flush()
    assert "Claim" in [b["text"] for b in buttons(bot.fake.latest(SALES).blocks)]
    [refusal] = bot.fake.ephemerals(OUTSIDER)
    assert "Only members of" in refusal.text


async def test_admin_may_claim_and_second_click_says_already_yours(bot: RunningBot) -> None:
    await add_lead(bot)
    await bot.slack.click(ADMIN, "Claim", channel_id=SALES)
    await bot.flush()
    assert f"Claimed by <@{ADMIN}>" in visible_text(bot.fake.latest(SALES).blocks)
    assert REP2 not in visible_text(bot.fake.latest(SALES).blocks)


async def test_mentions_in_lead_fields_render_literally(bot: RunningBot) -> None:
    await add_lead(
        bot,
        name="<!channel> Free money",
        company="<@U0REP1> & <#C0SALES>",
        title="<!here>",
        notes="<https://evil.example|click> <!subteam^S1>",
    )
    card = bot.fake.latest(SALES)
    # Slack parses markup only in mrkdwn (and the fallback text); plain_text shows it literally
    parsed = "\n".join([card.text, *mrkdwn_texts(card.blocks)])
    for raw in ("<!channel>", "<@U0REP1>", "<#C0SALES>", "<!here>", "<https://evil", "<!subteam"):
        assert raw not in parsed
    assert "&lt;!channel&gt; Free money" in card.text
    assert "&lt;@U0REP1&gt; &amp; &lt;#C0SALES&gt;" in parsed
    assert card.blocks[0]["text"]["type"] == "plain_text"
    assert card.blocks[0]["text"]["text"] == "<!channel> Free money · <@U0REP1> & <#C0SALES>"


def mrkdwn_texts(node: object) -> list[str]:
    """Every mrkdwn text object in a block tree."""
    if isinstance(node, dict):
        found = [node["text"]] if node.get("type") == "mrkdwn" else []
        return found + [t for value in node.values() for t in mrkdwn_texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_texts(item)]
    return []


async def test_membership_is_remembered_for_a_minute_but_a_refusal_asks_slack_again(bot: RunningBot) -> None:
    await add_lead(bot)
    await add_lead(bot, email="joe@beta.com", name="Joe Roe")
    ts1, ts2 = (m.ts for m in bot.fake.messages(SALES))
    # two members' clicks: one conversations.members call between them
    await bot.slack.click(REP1, "Claim", channel_id=SALES, message_ts=ts1)
    await bot.slack.click(REP2, "Claim", channel_id=SALES, message_ts=ts2)
    assert len(bot.fake.calls_to("conversations.members")) == 1
    # someone who was not a member a moment ago is asked about afresh, so joining works at once
    await bot.slack.click(OUTSIDER, "Claim", channel_id=SALES, message_ts=ts1)
    assert len(bot.fake.calls_to("conversations.members")) == 2
    bot.fake.channels[SALES].members.add(OUTSIDER)
    await add_lead(bot, email="ann@gamma.com", name="Ann Poe")
    await bot.slack.click(OUTSIDER, "Claim", channel_id=SALES, message_ts=bot.fake.latest(SALES).ts)
    await bot.flush()
    assert f"Claimed by <@{OUTSIDER}>" in visible_text(bot.fake.latest(SALES).blocks)
    # after the minute, even a member is asked about again
    calls = len(bot.fake.calls_to("conversations.members"))
    bot.clock.advance(seconds=61)
    await add_lead(bot, email="bo@delta.com", name="Bo Lo")
    await bot.slack.click(REP1, "Claim", channel_id=SALES, message_ts=bot.fake.latest(SALES).ts)
    assert len(bot.fake.calls_to("conversations.members")) == calls + 1
