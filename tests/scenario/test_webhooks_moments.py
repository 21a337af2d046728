"""The moments that are not clicks on a card: an SLA breach (the scheduler), a target set, a
discussion's recap; and the HANDOFF_WEBHOOK_URL + HANDOFF_WEBHOOK_SECRET shortcut."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from standardwebhooks import Webhook

from bot.domain.webhooks import new_secret
from bot.sandbox.webhook_receiver import WebhookReceiver
from bot.services.discussions import run_recaps
from tests.conftest import ADMIN, PARTNERSHIP, REP1, make_settings, serve_bot
from tests.scenario.helpers_intake import api
from tests.scenario.test_sla import add_rule, tick

SECRET = new_secret()
JANE = {"email": "jane@acme.com", "name": "Jane Doe", "company": "Acme"}


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    reference = Webhook(SECRET)
    r = WebhookReceiver(
        verify=lambda body, headers: reference.verify(body, {k.lower(): v for k, v in headers.items()})
    )
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
async def bot(engine, fake_slack, clock, database_url, receiver):
    settings = make_settings(
        database_url,
        fake_slack,
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        webhook_allow_private=True,
        sales_users=(REP1,),
    )
    async with serve_bot(engine, fake_slack, clock, settings) as running:
        yield running


async def test_sla_breach_target_and_recap_reach_the_shortcut_endpoint(bot, receiver) -> None:
    await add_rule(bot)
    status, created, _ = await api(bot, JANE)
    assert status == 201
    await bot.flush()
    await tick(bot, bot.clock.now() + timedelta(minutes=31))
    breach = [d for d in receiver.received.values() if d.type == "lead.sla_breached"]
    assert len(breach) == 1 and breach[0].data["id"] == created["id"]
    assert breach[0].data["history"][-1]["kind"] == "sla_reminder"

    reply = await bot.slack.command(ADMIN, "/targets", "set leads_delivered 12")
    assert "Target saved" in reply.text
    await bot.flush()
    [target] = [d for d in receiver.received.values() if d.type == "target.updated"]
    assert target.data["metric"] == "leads_delivered" and target.data["value"] == 12

    await bot.slack.command(REP1, "/discuss", "", channel_id=PARTNERSHIP)
    await bot.flush()
    bot.clock.advance(days=bot.handoff.settings.discuss_window_days)
    assert await run_recaps(bot.handoff, await bot.handoff.default_team_id(), bot.clock.now()) == 1
    await bot.flush()
    [recap] = [d for d in receiver.received.values() if d.type == "discussion.recap_posted"]
    assert recap.data["channel_id"] == PARTNERSHIP and recap.data["recap"]
    assert receiver.rejected == 0 and receiver.duplicates == 0
