"""Single-workspace mode asks Slack's auth.test once per process: Bolt's authorization, the outbox,
the jobs and the API share one answer, even when the first requests arrive together."""

from __future__ import annotations

import asyncio

from slack_bolt.request.async_request import AsyncBoltRequest

from tests.conftest import REP1, REP2, SALES, RunningBot
from tests.reliability.helpers import add_lead
from tests.reliability.test_event_idempotency import envelope, home_opened


async def test_fifty_commands_clicks_events_and_deliveries_cost_one_auth_test(bot: RunningBot) -> None:
    # the first requests arrive at once: one of them asks, the others wait for its answer
    first = await asyncio.gather(*(bot.slack.command(REP1, "/handoff", "help") for _ in range(5)))
    assert all("/lead" in r.text for r in first)
    for _ in range(45):
        reply = await bot.slack.command(REP1, "/handoff", "help", channel_id=SALES)
        assert reply.status == 200 and "/lead" in reply.text
    for i in range(5):
        await add_lead(bot.handoff, email=f"lead{i}@acme.com")
    await bot.flush()
    assert len(bot.fake.messages(SALES)) == 5
    claimed = await bot.slack.click(REP2, "Claim", channel_id=SALES)
    assert claimed.status == 200
    await bot.slack.app_home_opened(REP1)
    socket = AsyncBoltRequest(body=envelope(bot, home_opened(bot, REP2), "Ev0AUTH0001"), mode="socket_mode")
    assert (await bot.handoff.bolt.async_dispatch(socket)).status == 200
    await bot.flush()
    assert bot.fake.home(REP2) is not None
    assert len(bot.fake.calls_to("auth.test")) == 1


async def test_a_failed_auth_test_is_not_remembered(bot: RunningBot) -> None:
    bot.fake.fail("auth.test", kind="error", error="invalid_auth")
    refused = await bot.slack.command(REP1, "/handoff", "help", channel_id=SALES)
    assert refused.status == 200 and "/lead" not in refused.text  # Bolt's "could not authorize" answer
    reply = await bot.slack.command(REP1, "/handoff", "help", channel_id=SALES)
    assert "/lead" in reply.text
    assert len(bot.fake.calls_to("auth.test")) == 2
