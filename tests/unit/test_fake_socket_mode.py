"""The fake's Socket Mode acks, driven by a bare WebSocket client: an app that replaced its
connection acks on the new one what it read on the old, and acks each copy Slack delivered again;
only an ack nothing was delivered for is a violation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.fake_slack.socket_mode import Ack

COMMAND = {"command": "/handoff", "text": "help", "user_id": "U1", "channel_id": "C1"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as f:
        yield f


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def connect(fake: FakeSlack, http: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    async with http.post(
        f"{fake.base_url}apps.connections.open", headers={"Authorization": f"Bearer {fake.app_token}"}
    ) as resp:
        url = (await resp.json())["url"]
    ws = await http.ws_connect(url)
    assert (await next_message(ws))["type"] == "hello"
    return ws


async def next_message(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    async with asyncio.timeout(5):
        message = await ws.receive()
    assert message.type == aiohttp.WSMsgType.TEXT, message
    data: dict[str, Any] = json.loads(message.data)
    return data


async def ack(ws: aiohttp.ClientWebSocketResponse, envelope_id: str) -> None:
    await ws.send_str(json.dumps({"envelope_id": envelope_id, "payload": {"text": "ok"}}))


async def processed(fake: FakeSlack, ws: aiohttp.ClientWebSocketResponse) -> list[str]:
    """The violations once the fake has read everything sent on ``ws`` before: a connection's
    messages are read in order, so the answer to an ack for no envelope marks the end."""
    await ack(ws, "end-of-acks")
    marker = "socket mode: ack for an unknown or already acked envelope end-of-acks"
    async with asyncio.timeout(5):
        while marker not in fake.violations:  # noqa: ASYNC110 - polling the fake
            await asyncio.sleep(0.01)
    violations = [v for v in fake.violations if v != marker]
    fake.violations.clear()
    return violations


async def replaced_before_the_ack(
    fake: FakeSlack, http: aiohttp.ClientSession, kind: str, payload: dict[str, Any]
) -> tuple[asyncio.Future[Ack | None], dict[str, Any], aiohttp.ClientWebSocketResponse]:
    """An envelope read on one connection, which the app then replaces (a stale ping) before it
    acks: the delivery in flight, the envelope as read, and the new connection."""
    old = await connect(fake, http)
    delivery = asyncio.ensure_future(fake.deliver(kind, payload))
    envelope = await next_message(old)
    await old.close()
    return delivery, envelope, await connect(fake, http)


async def test_an_ack_sent_on_the_replacement_connection_settles_the_envelope(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    delivery, envelope, new = await replaced_before_the_ack(fake, http, "slash_commands", COMMAND)
    await ack(new, envelope["envelope_id"])
    answer = await delivery
    assert isinstance(answer, Ack) and answer.payload == {"text": "ok"}
    # if Slack had already pushed the copy again, the app acks that copy too
    try:
        async with asyncio.timeout(0.3):
            copy = await next_message(new)
    except TimeoutError:
        copy = None
    if copy is not None:
        assert copy["envelope_id"] == envelope["envelope_id"]
        await ack(new, copy["envelope_id"])
    assert await processed(fake, new) == []
    assert [a.envelope_id for a in fake.acks] == [envelope["envelope_id"]]
    await new.close()


async def test_each_copy_delivered_again_may_be_acked_once_and_no_more(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    delivery, envelope, new = await replaced_before_the_ack(
        fake, http, "interactive", {"type": "block_actions"}
    )
    copy = await next_message(new)  # not acked before its connection went: delivered again
    assert copy["envelope_id"] == envelope["envelope_id"]
    await ack(new, envelope["envelope_id"])  # the listener of the first copy answers
    await ack(new, copy["envelope_id"])  # and the listener of the second
    assert await delivery is not None
    assert await processed(fake, new) == []
    await ack(new, copy["envelope_id"])  # a third ack for two deliveries is the app's bug
    await ack(new, "no-such-envelope")
    assert await processed(fake, new) == [
        f"socket mode: ack for an unknown or already acked envelope {envelope['envelope_id']}",
        "socket mode: ack for an unknown or already acked envelope no-such-envelope",
    ]
    await new.close()


async def test_an_envelope_acked_twice_on_one_connection_is_a_violation(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    ws = await connect(fake, http)
    delivery = asyncio.ensure_future(fake.deliver("events_api", {"type": "event_callback"}))
    envelope = await next_message(ws)
    await ack(ws, envelope["envelope_id"])
    await delivery
    await ack(ws, envelope["envelope_id"])
    assert await processed(fake, ws) == [
        f"socket mode: ack for an unknown or already acked envelope {envelope['envelope_id']}"
    ]
    await ws.close()
