"""Socket Mode as Slack runs it: hello, envelopes acked once and in time, reconnects on Slack's
request and after a dropped socket, a refused app token at start, and an unreachable Slack that
does not keep the rest of the bot from working."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app
from bot.clock import FrozenClock
from bot.outbox.pacing import Pacer
from bot.sandbox import FakeSlack, visible_text
from bot.slack.socket_edge import AppTokenRefused
from tests.conftest import REP1, SALES, RunningBot, make_settings
from tests.reliability.helpers import add_lead


@pytest.fixture
def mode() -> str:
    return "socket"


async def eventually(check: Any, within: float = 10.0) -> None:
    for _ in range(int(within / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    assert check()


async def test_every_kind_of_envelope_is_acked_once_with_the_listeners_answer(bot: RunningBot) -> None:
    await add_lead(bot.handoff)
    await bot.flush()
    help_reply = await bot.slack.command(REP1, "/handoff", "help")
    assert "/lead" in help_reply.text  # the ack's payload is what the person sees
    click = await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await bot.flush()
    # an event no listener handles is acked too, or Slack would send it again and again
    event = await bot.slack.event({"type": "reaction_removed", "user": REP1, "reaction": "eyes"})
    assert help_reply.status == click.status == event.status == 200
    assert [a.type for a in bot.fake.acks] == ["slash_commands", "interactive", "events_api"]
    assert all(a.seconds < 3 for a in bot.fake.acks)
    assert f"Claimed by <@{REP1}>" in visible_text(bot.fake.latest(SALES).blocks)  # type: ignore[union-attr]


async def test_a_redelivered_event_runs_its_listener_once(bot: RunningBot) -> None:
    seen: list[str] = []

    @bot.handoff.bolt.event("reaction_added")
    async def record(event: dict[str, Any]) -> None:
        seen.append(event["user"])

    event = {"type": "reaction_added", "user": REP1, "reaction": "eyes", "item": {"type": "message"}}
    first = await bot.slack.event(event, event_id="Ev0SOCKET01")
    again = await bot.slack.event(event, event_id="Ev0SOCKET01", retry_num=1, retry_reason="timeout")
    assert first.status == again.status == 200
    assert seen == [REP1]


async def test_slack_asks_to_reconnect_and_the_bot_does_without_losing_a_click(bot: RunningBot) -> None:
    await add_lead(bot.handoff)
    await bot.flush()
    assert bot.fake.connections_opened == 1
    await bot.fake.disconnect_sockets("refresh_requested")
    await eventually(lambda: bot.fake.connections_opened == 2 and bot.fake.socket_count == 1)
    reply = await bot.slack.click(REP1, "Claim", channel_id=SALES)
    assert reply.status == 200
    await bot.flush()
    assert f"Claimed by <@{REP1}>" in visible_text(bot.fake.latest(SALES).blocks)  # type: ignore[union-attr]
    assert len(bot.fake.calls_to("apps.connections.open")) == 2  # a fresh URL for each connection


async def test_a_dropped_socket_is_noticed_reported_and_replaced(bot: RunningBot) -> None:
    assert bot.handoff.socket_connected is True
    await bot.fake.drop_sockets()
    # a command typed while no socket is open waits at Slack and arrives on the new connection
    command = asyncio.ensure_future(bot.slack.command(REP1, "/handoff", "help"))
    await eventually(lambda: bot.fake.connections_opened == 2)
    reply = await command
    assert reply.status == 200 and "/lead" in reply.text
    await eventually(lambda: bot.handoff.socket_connected is True)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{bot.url}/healthz") as resp:
            assert (await resp.json())["socket"] == "connected"


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("revoked", "invalid_auth"),
        ("xoxb-test-token", "not an app-level token"),
        ("xapp-but-a-bot-token", "not_allowed_token_type"),
    ],
)
async def test_a_refused_app_token_stops_start_up_with_the_reason(
    engine: AsyncEngine, fake_slack: FakeSlack, clock: FrozenClock, database_url: str, token: str, why: str
) -> None:
    if token == "revoked":
        token = fake_slack.app_token
        fake_slack.revoke_app_token()
    if token == "xapp-but-a-bot-token":
        fake_slack.add_token(token, team_id=fake_slack.team_id)
    settings = make_settings(database_url, fake_slack, slack_app_token=token)
    handoff = build_app(settings, engine=engine, clock=clock, pacer=Pacer.unlimited())
    try:
        assert handoff.socket_edge is not None
        with pytest.raises(AppTokenRefused) as refused:
            await handoff.socket_edge.start()
        assert why in str(refused.value) and "SLACK_APP_TOKEN" in str(refused.value)
        assert token not in str(refused.value)
    finally:
        await handoff.close()


async def test_slack_unreachable_at_start_the_outbox_still_posts_and_the_socket_follows(
    engine: AsyncEngine, fake_slack: FakeSlack, clock: FrozenClock, database_url: str
) -> None:
    fake_slack.fail("apps.connections.open", kind="reset", times=2)
    settings = make_settings(database_url, fake_slack, slack_app_token=fake_slack.app_token)
    handoff = build_app(settings, engine=engine, clock=clock, pacer=Pacer.unlimited(), with_scheduler=False)
    try:
        assert handoff.socket_edge is not None
        await asyncio.wait_for(handoff.socket_edge.start(), 5)  # start-up does not wait for Slack
        assert handoff.socket_connected is False
        await handoff.start_background()
        await add_lead(handoff)
        handoff.wake_sender()
        await eventually(lambda: len(fake_slack.messages(SALES)) == 1)  # the card, without a socket
        await eventually(lambda: handoff.socket_connected is True, within=15)  # backoff: ~1 s, ~2 s
        assert len(fake_slack.calls_to("apps.connections.open")) == 3
    finally:
        await handoff.close()
