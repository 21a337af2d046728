"""Outbound events (Standard Webhooks) over the real app: an admin adds an endpoint in Slack, leads
move by API and clicks, and a local receiver verifies every delivery with the `standardwebhooks`
reference package. Faults: 5xx, 429 with Retry-After, timeouts, resets; an endpoint failing for
HANDOFF_WEBHOOK_DISABLE_HOURS is disabled with one alert; replay keeps the webhook-id."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook

from bot.domain.outbox import OutboxStatus, Purpose
from bot.sandbox.webhook_receiver import WebhookReceiver
from bot.storage.models import Outbox, WebhookEndpoint
from tests.conftest import ADMIN, REP1, SALES, RunningBot, make_settings, serve_bot
from tests.scenario.helpers_intake import api

SECRET_PATTERN = re.compile(r"whsec_[A-Za-z0-9+/=]+")
JANE = {"email": "jane@acme.com", "name": "Jane Doe", "company": "Acme", "source": "webinar"}


class Receiver(WebhookReceiver):
    """Verifies with the reference implementation once it knows the endpoint's secret."""

    def use_secret(self, secret: str) -> None:
        reference = Webhook(secret)
        self.verify = lambda body, headers: reference.verify(body, {k.lower(): v for k, v in headers.items()})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    def refuse(body: bytes, headers: object) -> None:
        raise ValueError("no secret yet")

    r = Receiver(verify=refuse)
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
def settings(database_url, fake_slack):
    return make_settings(database_url, fake_slack, webhook_allow_private=True, webhook_timeout=0.5)


async def add_endpoint(bot: RunningBot, receiver: Receiver, events: str = "") -> str:
    reply = await bot.slack.command(ADMIN, "/handoff", f"webhooks add <{receiver.url}> {events}".strip())
    [secret] = SECRET_PATTERN.findall(reply.text)
    receiver.use_secret(secret)
    return secret


async def deliver(bot: RunningBot, *, rounds: int = 30, step: float = 301) -> None:
    """Flush, and move the clock past any backoff until nothing is waiting (no sleeping)."""
    for _ in range(rounds):
        await bot.flush()
        async with bot.handoff.uow() as uow:
            waiting = await uow.session.scalar(
                select(func.count(Outbox.id)).where(
                    Outbox.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
                )
            )
        if not waiting:
            return
        bot.clock.advance(seconds=step)


async def test_lead_moments_arrive_signed_with_the_lead_as_the_api_shows_it(bot, receiver) -> None:
    await add_endpoint(bot, receiver)
    status, created, _ = await api(bot, JANE)
    assert status == 201
    _, shown_then, _ = await api(bot, method="GET", path=f"/api/leads/{created['id']}")
    await deliver(bot)
    assert receiver.types() == ["lead.created", "lead.routed"]
    first = next(iter(receiver.received.values()))
    assert first.data == shown_then  # exactly GET /api/leads/{id}, as it was at the change
    assert receiver.rejected == 0

    assert (await bot.slack.click(REP1, "Claim", channel_id=SALES)).ok
    await deliver(bot)
    await bot.slack.click(REP1, "Accept", channel_id=SALES)
    assert (await bot.slack.submit(REP1, {"Lead quality": "4 — good"})).ok
    await deliver(bot)
    for stage in ("Contacted", "Meeting booked", "Opportunity", "Won"):
        await bot.slack.click(REP1, stage, channel_id=SALES)
        await deliver(bot)
    assert (await bot.slack.submit(REP1, {"Deal amount": "12,000.50", "Currency": "eur"})).ok
    await deliver(bot)

    types = receiver.types()
    assert types[:4] == ["lead.created", "lead.routed", "lead.claimed", "lead.accepted"]
    assert types[4:] == ["lead.stage_changed"] * 4
    claimed = next(d for d in receiver.received.values() if d.type == "lead.claimed")
    assert claimed.data["status"] == "claimed" and claimed.data["owner_id"] == REP1
    won = list(receiver.received.values())[-1].data
    assert won["status"] == "won"
    assert (won["feedback"]["won_amount"], won["feedback"]["currency"]) == ("12000.50", "EUR")
    assert won["history"][-1]["data"]["to"] == "won"
    _, shown_now, _ = await api(bot, method="GET", path=f"/api/leads/{created['id']}")
    assert won == shown_now
    assert len(set(receiver.received)) == len(types) and receiver.duplicates == 0
    assert all(re.fullmatch(r"msg_\d+_\d+", i) for i in receiver.received)


async def test_the_event_filter_and_a_rejected_verdict_and_release(bot, receiver) -> None:
    await add_endpoint(bot, receiver, "lead.claimed,lead.released")
    await api(bot, JANE)
    await bot.flush()
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await deliver(bot)
    await bot.slack.click(REP1, "Release", channel_id=SALES)
    await deliver(bot)
    assert receiver.types() == ["lead.claimed", "lead.released"]
    released = list(receiver.received.values())[-1].data
    assert released["status"] == "new" and released["owner_id"] is None


async def test_faults_are_retried_with_one_webhook_id_and_nothing_lost_or_doubled(bot, receiver) -> None:
    await add_endpoint(bot, receiver)
    receiver.fail_next(("status", 503), ("429", 30), ("hang", 2.0), ("reset", 0), ("status", 500))
    await api(bot, JANE)
    await deliver(bot)
    # no order across retries (as the spec says): each event says when it happened
    assert sorted(receiver.types()) == ["lead.created", "lead.routed"]
    assert receiver.faults_injected == 5 and receiver.attempts == 7
    assert receiver.duplicates == 0 and receiver.rejected == 0
    async with bot.handoff.uow() as uow:
        rows = list(await uow.session.scalars(select(Outbox).where(Outbox.purpose == Purpose.WEBHOOK.value)))
        endpoint = await uow.session.scalar(select(WebhookEndpoint))
    assert {r.status for r in rows} == {"sent"}
    assert sum(r.attempts for r in rows) == 7
    assert endpoint is not None and endpoint.failing_since is None  # a success clears the clock


async def test_429_waits_for_retry_after(bot, receiver) -> None:
    await add_endpoint(bot, receiver, "lead.created")
    receiver.fail_next(("429", 120))
    await api(bot, JANE)
    await bot.flush()
    assert receiver.attempts == 1 and not receiver.received
    bot.clock.advance(seconds=100)
    await bot.flush()
    assert receiver.attempts == 1  # not before Retry-After
    bot.clock.advance(seconds=21)
    await bot.flush()
    assert receiver.types() == ["lead.created"]


async def test_an_endpoint_failing_for_72_hours_is_disabled_with_one_alert_then_replayed(
    bot, receiver
) -> None:
    await add_endpoint(bot, receiver, "lead.*")
    receiver.fail_next(*[("status", 503)] * 10_000)
    await api(bot, JANE)
    await api(bot, {**JANE, "email": "john@acme.com", "name": "John"})
    for _ in range(80):
        bot.clock.advance(hours=1)
        await bot.flush()
    alerts = [
        m for m in bot.fake.messages(bot.fake.im_channel(ADMIN)) if "disabled the webhook endpoint" in m.text
    ]
    assert len(alerts) == 1 and "72 hours" in alerts[0].text
    async with bot.handoff.uow() as uow:
        endpoint = await uow.session.scalar(select(WebhookEndpoint))
        assert endpoint is not None and endpoint.disabled_at is not None
        rows = list(await uow.session.scalars(select(Outbox).where(Outbox.purpose == Purpose.WEBHOOK.value)))
    assert {r.status for r in rows} == {"failed"}
    tried = receiver.attempts
    bot.clock.advance(hours=5)
    await bot.flush()
    assert receiver.attempts == tried  # nothing more to a disabled endpoint

    # the receiver is fixed: enable, replay, and every event arrives once, with its first webhook-id
    receiver.script.clear()
    status = await bot.slack.command(ADMIN, "/handoff", "status")
    assert "Webhook deliveries" in status.text and "failed" in status.text
    await bot.slack.command(ADMIN, "/handoff", f"webhooks enable {endpoint.id}")
    from bot.services import webhooks

    async with bot.handoff.open_context(await bot.handoff.default_team_id()) as ctx:
        queued = await webhooks.replay(ctx, bot.clock.now() - timedelta(days=30))
    assert queued == 4
    await deliver(bot)
    assert sorted(receiver.types()) == ["lead.created", "lead.created", "lead.routed", "lead.routed"]
    assert set(receiver.received) == {f"msg_{r.ref_id}_{endpoint.id}" for r in rows}
    assert receiver.duplicates == 0


async def test_test_event_list_and_remove_in_slack(bot, receiver) -> None:
    await add_endpoint(bot, receiver)
    listing = await bot.slack.command(ADMIN, "/handoff", "webhooks list")
    assert receiver.url in listing.text and "active" in listing.text
    await bot.slack.command(ADMIN, "/handoff", "webhooks test 1")
    await deliver(bot)
    assert receiver.types() == ["webhook.test"]
    refused = await bot.slack.command(REP1, "/handoff", "webhooks list")
    assert receiver.url not in refused.text
    await bot.slack.command(ADMIN, "/handoff", "webhooks remove 1")
    await api(bot, JANE)
    await deliver(bot)
    assert receiver.types() == ["webhook.test"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "http://user:pw@example.com/x",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/hook",
        "http://localhost:8080/x",
        "http://[::1]/x",
        "not a url",
    ],
)
async def test_private_and_odd_urls_are_refused_without_the_private_switch(
    engine, fake_slack, clock, database_url, url
) -> None:
    settings = make_settings(database_url, fake_slack)
    async with serve_bot(engine, fake_slack, clock, settings) as bot:
        reply = await bot.slack.command(ADMIN, "/handoff", f"webhooks add {url}")
        assert "whsec_" not in reply.text
        async with bot.handoff.uow() as uow:
            assert await uow.session.scalar(select(func.count(WebhookEndpoint.id))) == 0


async def test_secrets_are_encrypted_at_rest_with_the_encryption_key(
    engine, fake_slack, clock, database_url, receiver
) -> None:
    from cryptography.fernet import Fernet

    settings = make_settings(
        database_url, fake_slack, webhook_allow_private=True, encryption_key=Fernet.generate_key().decode()
    )
    async with serve_bot(engine, fake_slack, clock, settings) as bot:
        secret = await add_endpoint(bot, receiver)
        async with bot.handoff.uow() as uow:
            stored = await uow.session.scalar(select(WebhookEndpoint.secret))
        assert stored is not None and stored.startswith("enc:v1:") and secret not in stored
        await api(bot, JANE)
        await deliver(bot)
        assert receiver.types() == ["lead.created", "lead.routed"] and receiver.rejected == 0
