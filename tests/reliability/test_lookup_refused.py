"""Lookup before retry where the bot may post but not read: chat:write.public posts in a public
channel the bot is not in, but conversations.history there answers not_in_channel. The outbox joins
the channel to look, and where it cannot, posts again saying so: never a card stuck in silence."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import FakeSlack
from tests.conftest import SALES, RunningBot
from tests.reliability.helpers import add_lead, card_counts, outbox_rows


def outside_sales(bot: RunningBot) -> None:
    bot.fake.chat_write_public = True
    bot.fake.channels[SALES].bot_is_member = False
    bot.fake.channels[SALES].members.discard(bot.fake.bot_user_id)


async def test_the_fake_lets_the_bot_post_but_not_read_where_it_is_not_a_member(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.chat_write_public = True
    fake_slack.add_channel("C0OUTSIDE", name="outside", bot_is_member=False)
    client = AsyncWebClient(base_url=fake_slack.base_url, token=fake_slack.bot_token)
    assert (await client.chat_postMessage(channel="C0OUTSIDE", text="hello"))["ok"]
    with pytest.raises(SlackApiError) as refused:
        await client.conversations_history(channel="C0OUTSIDE")
    assert refused.value.response["error"] == "not_in_channel"
    joined = await client.conversations_join(channel="C0OUTSIDE")
    assert joined["channel"]["is_member"]
    assert [m["text"] for m in (await client.conversations_history(channel="C0OUTSIDE"))["messages"]] == [
        "hello"
    ]


async def test_a_lost_answer_is_found_after_joining_so_the_card_is_posted_once(bot: RunningBot) -> None:
    outside_sales(bot)
    bot.fake.fail("chat.postMessage", kind="lost")  # Slack posts, the answer never arrives
    lead_id = await add_lead(bot.handoff)
    await bot.flush()
    bot.clock.advance(seconds=30)
    await bot.flush()
    assert card_counts(bot.fake, [SALES]) == {lead_id: 1}
    assert len(bot.fake.calls_to("conversations.join")) == 1
    [row] = [r for r in await outbox_rows(bot.handoff) if r.purpose == "lead_card"]
    assert row.status == "sent" and row.result_ts == bot.fake.messages(SALES)[0].ts


async def test_where_the_bot_may_not_join_the_card_is_posted_again_and_the_risk_logged(
    bot: RunningBot, caplog: Any
) -> None:
    outside_sales(bot)
    bot.fake.channels_join = False  # an install from before channels:join was asked for
    bot.fake.fail("chat.postMessage", kind="server_error")  # not posted, but we cannot know that
    lead_id = await add_lead(bot.handoff)
    await bot.flush()
    bot.clock.advance(seconds=30)
    with caplog.at_level(logging.WARNING):
        await bot.flush()
    assert card_counts(bot.fake, [SALES]) == {lead_id: 1}
    assert "cannot look for an earlier post (not_in_channel); posting again" in caplog.text
    [row] = [r for r in await outbox_rows(bot.handoff) if r.purpose == "lead_card"]
    assert row.status == "sent"
