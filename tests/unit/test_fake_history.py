"""The fake's conversations.history / conversations.replies behave like Slack's (the outbox relies
on them to find a message it posted but never heard back about)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import FakeSlack

MARK = {"event_type": "handoff_outbox", "event_payload": {"outbox_id": 7}}


async def test_history_is_newest_first_top_level_and_metadata_only_on_request() -> None:
    async with FakeSlack() as fake:
        fake.add_channel("C1", name="one")
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
        first = await client.chat_postMessage(channel="C1", text="first", metadata=MARK)
        await client.chat_postMessage(channel="C1", text="in thread", thread_ts=first["ts"])
        await client.chat_postMessage(channel="C1", text="second")
        plain = await client.conversations_history(channel="C1")
        assert [m["text"] for m in plain["messages"]] == ["second", "first"]
        assert all("metadata" not in m for m in plain["messages"])
        full = await client.conversations_history(channel="C1", include_all_metadata=True)
        assert full["messages"][1]["metadata"] == MARK
        later = await client.conversations_history(channel="C1", oldest=first["ts"])
        assert [m["text"] for m in later["messages"]] == ["second"]
        replies = await client.conversations_replies(channel="C1", ts=first["ts"], include_all_metadata=True)
        assert [m["text"] for m in replies["messages"]] == ["first", "in thread"]


async def test_history_pages_with_a_cursor_and_refuses_channels_the_bot_is_not_in() -> None:
    async with FakeSlack() as fake:
        fake.add_channel("C1", name="one")
        fake.add_channel("C2", name="two", bot_is_member=False)
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
        for i in range(5):
            await client.chat_postMessage(channel="C1", text=f"m{i}")
        page = await client.conversations_history(channel="C1", limit=2)
        seen = [m["text"] for m in page["messages"]]
        while page["has_more"]:
            page = await client.conversations_history(
                channel="C1", limit=2, cursor=page["response_metadata"]["next_cursor"]
            )
            seen += [m["text"] for m in page["messages"]]
        assert seen == ["m4", "m3", "m2", "m1", "m0"]
        try:
            await client.conversations_history(channel="C2")
        except SlackApiError as exc:
            assert exc.response["error"] == "not_in_channel"
        else:
            raise AssertionError("expected not_in_channel")
        try:
            await client.conversations_replies(channel="C1", ts="1.000001")
        except SlackApiError as exc:
            assert exc.response["error"] == "thread_not_found"
        else:
            raise AssertionError("expected thread_not_found")


async def test_lost_failure_does_the_work_but_never_answers() -> None:
    async with FakeSlack() as fake:
        fake.add_channel("C1", name="one")
        # no retry handlers: slack_sdk's default would retry a dropped connection and post twice
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url, retry_handlers=[])
        fake.fail("chat.postMessage", kind="lost")
        try:
            await client.chat_postMessage(channel="C1", text="hello")
        except Exception:
            pass
        else:
            raise AssertionError("the answer should have been lost")
        assert [m.text for m in fake.messages("C1")] == ["hello"]
