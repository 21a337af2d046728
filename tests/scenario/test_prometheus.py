"""GET /metrics after a lead's whole path (API → card → claim → verdict → SLA reminder), parsed
with prometheus_client's own parser; the outbox gauges read at scrape time; the token and the
separate port; never a 500, never a person or a lead in a label."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from prometheus_client import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from bot.app import build_app
from bot.handlers.ops import set_outbox_gauges
from bot.observability import metrics
from bot.storage.db import make_engine
from bot.storage.outbox_depth import QueueGroup
from tests.conftest import ADMIN, MARKETER, OUTSIDER, REP1, REP2, SALES, RunningBot, make_settings
from tests.scenario.helpers_intake import api
from tests.scenario.test_sla import add_rule, tick

NAMES = (
    "handoff_requests",
    "handoff_request_duration_seconds",
    "handoff_slack_late_acks",
    "handoff_slack_calls",
    "handoff_slack_call_duration_seconds",
    "handoff_outbox_lookups",
    "handoff_outbox_deliveries",
    "handoff_outbox_depth",
    "handoff_outbox_oldest_pending_seconds",
    "handoff_outbox_failed",
    "handoff_leads",
    "handoff_claims",
    "handoff_verdicts",
    "handoff_sla_steps",
    "handoff_lead_visible_seconds",
    "handoff_lead_claimed_seconds",
    "handoff_job_runs",
    "handoff_job_duration_seconds",
    "handoff_db_pool_connections",
    "handoff_ready",
    "process_resident_memory_bytes",
)
PEOPLE = (MARKETER, REP1, REP2, ADMIN, OUTSIDER)


async def scrape(url: str, token: str | None = None) -> list[Sample]:
    return [s for family in await scrape_families(url, token) for s in family.samples]


async def scrape_families(url: str, token: str | None = None) -> list[Metric]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/metrics", headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            assert resp.headers["Content-Type"].startswith("text/plain; version=")
            text = await resp.text()
    return list(text_string_to_metric_families(text))


def value(samples: Iterable[Sample], name: str, **labels: str) -> float:
    return sum(
        s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def delta(before: list[Sample], after: list[Sample], name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_metrics_follow_a_lead_from_the_api_to_the_sla_reminder(bot: RunningBot) -> None:
    before = await scrape(bot.url)
    await add_rule(bot)
    lead = {"email": "jane@acme.com", "name": "Jane Doe", "company": "Acme Secret Corp"}
    assert (await api(bot, lead))[0] == 201
    assert (await api(bot, lead))[0] == 200  # the same lead again: a duplicate
    assert (await api(bot, {"email": "not an email"}))[0] == 422
    second = {"email": "joe@example.org", "name": "Joe Bloggs", "company": "Other Ltd"}
    assert (await api(bot, second))[0] == 201
    queued = await scrape(bot.url)
    # two cards and the duplicate's note in the first card's thread
    assert value(queued, "handoff_outbox_depth", lane="lead", channel=SALES) == 3
    assert value(queued, "handoff_outbox_oldest_pending_seconds", lane="lead", channel=SALES) == 0

    bot.clock.advance(minutes=3)  # the cards go out three minutes after the leads came in
    await bot.flush()
    cards = bot.fake.messages(SALES)
    assert len(cards) == 2
    bot.clock.advance(minutes=2)
    assert (await bot.slack.click(REP1, "Claim", channel_id=SALES, message_ts=cards[0].ts)).status == 200
    await bot.slack.click(REP2, "Claim", channel_id=SALES, message_ts=cards[0].ts)  # too late
    await bot.flush()
    await tick(bot, bot.clock.now() + timedelta(minutes=31))  # the second lead's reminder
    after = await scrape(bot.url)

    # every metric is described, with or without samples yet (e.g. no late acks here)
    families = {family.name for family in await scrape_families(bot.url)}
    assert set(NAMES) <= families, set(NAMES) - families
    assert delta(before, after, "handoff_leads_total", door="api", result="created") == 2
    assert delta(before, after, "handoff_leads_total", door="api", result="duplicate") == 1
    assert delta(before, after, "handoff_leads_total", door="api", result="invalid") == 1
    assert delta(before, after, "handoff_claims_total", result="won") == 1
    assert delta(before, after, "handoff_claims_total", result="too_late") == 1
    assert delta(before, after, "handoff_sla_steps_total", step="sla_reminder") == 1
    assert delta(before, after, "handoff_job_runs_total", job="sla", result="ran") >= 1
    assert delta(before, after, "handoff_requests_total", kind="/api/leads", outcome="ok") == 3
    assert delta(before, after, "handoff_requests_total", kind="/api/leads", outcome="rejected") == 1
    assert delta(before, after, "handoff_requests_total", kind="block_actions", outcome="ok") == 2
    assert delta(before, after, "handoff_slack_calls_total", method="chat.postMessage", status="ok") >= 3
    assert delta(before, after, "handoff_outbox_deliveries_total", lane="lead", result="sent") >= 4
    # speed to lead: both cards visible after 180 s, the claim 300 s after arrival
    assert delta(before, after, "handoff_lead_visible_seconds_count") == 2
    assert delta(before, after, "handoff_lead_visible_seconds_sum") == 360
    assert delta(before, after, "handoff_lead_claimed_seconds_count") == 1
    assert delta(before, after, "handoff_lead_claimed_seconds_sum") == 300
    assert delta(before, after, "handoff_lead_claimed_seconds_bucket", le="300.0") == 1
    assert delta(before, after, "handoff_lead_claimed_seconds_bucket", le="120.0") == 0
    # everything sent: no queue left
    assert value(after, "handoff_outbox_depth") == 0
    assert value(after, "handoff_db_pool_connections", state="size") >= 1

    labels = {v for s in after for v in s.labels.values()}
    for secret in (*PEOPLE, "jane", "Jane", "Acme", "joe@example.org", "Bloggs"):
        assert not any(secret in label for label in labels), secret


async def test_verdicts_are_counted(bot: RunningBot) -> None:
    before = await scrape(bot.url)
    await add_rule(bot)
    await api(bot, {"email": "jane@acme.com", "name": "Jane Doe"})
    await bot.flush()
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await bot.flush()
    await bot.slack.click(REP1, "Release", channel_id=SALES)
    after = await scrape(bot.url)
    assert delta(before, after, "handoff_verdicts_total", verdict="released") == 1


def test_outbox_gauges_cap_channels_and_keep_people_out() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    groups = [
        QueueGroup("lead_card", f"C0{i:03d}", "queued", 30 - i, now - timedelta(seconds=i)) for i in range(25)
    ]
    groups += [
        QueueGroup("alert", REP1, "queued", 1, now - timedelta(minutes=5)),  # a DM by user ID
        QueueGroup("message", "D0123ABC", "queued", 2, now),
        QueueGroup("lead_thread", "C0000", "failed", 4, now),
        QueueGroup("discussion_prompt", None, "queued", 1, None),
    ]
    set_outbox_gauges(groups, now)  # what a scrape does with its query's rows
    text = generate_latest(metrics.REGISTRY).decode()
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    # the busiest 20 by name (queued only), then the rest summed as "other"
    lead_channels = {
        s.labels["channel"]
        for s in samples
        if s.name == "handoff_outbox_depth" and s.labels["lane"] == "lead"
    }
    assert len(lead_channels) == 21 and "other" in lead_channels and "C0000" in lead_channels
    assert value(samples, "handoff_outbox_depth", lane="lead", channel="other") == sum(
        30 - i for i in range(20, 25)
    )
    assert value(samples, "handoff_outbox_oldest_pending_seconds", lane="lead", channel="other") == 24
    assert value(samples, "handoff_outbox_depth", lane="alert", channel="dm") == 1
    assert value(samples, "handoff_outbox_oldest_pending_seconds", lane="alert", channel="dm") == 300
    assert value(samples, "handoff_outbox_depth", lane="message", channel="dm") == 2
    assert value(samples, "handoff_outbox_failed", lane="lead") == 4
    assert value(samples, "handoff_outbox_depth", lane="discussion", channel="none") == 1
    assert not any(REP1 in v or v.startswith("D0") for s in samples for v in s.labels.values())


async def test_metrics_token_and_port(database_url: str, fake_slack, engine, clock) -> None:
    from tests.conftest import serve_bot

    settings = make_settings(database_url, fake_slack, metrics_token="scrape-me")
    async with serve_bot(engine, fake_slack, clock, settings) as running:
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "scrape-me"}):
                async with session.get(f"{running.url}/metrics", headers=headers) as resp:
                    assert resp.status == 401
                    assert "handoff_" not in await resp.text()
        assert value(await scrape(running.url, "scrape-me"), "handoff_ready") in (0, 1)

    separate = build_app(
        make_settings(database_url, fake_slack, metrics_port=9999), engine=engine, clock=clock
    )
    try:
        assert separate.metrics_web is not None
        main_paths = {r.resource.canonical for r in separate.web.router.routes() if r.resource}
        metric_paths = {r.resource.canonical for r in separate.metrics_web.router.routes() if r.resource}
        assert "/metrics" not in main_paths and "/readyz" in main_paths and metric_paths == {"/metrics"}
    finally:
        await separate.close()


async def test_readyz_follows_phases_and_the_database(
    bot: RunningBot, database_url: str, fake_slack, clock
) -> None:
    from bot.observability.readiness import Phase

    async def get(url: str, path: str) -> tuple[int, dict]:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}{path}") as resp:
                return resp.status, await resp.json()

    assert await get(bot.url, "/readyz") == (200, {"status": "ready", "phase": "ready", "database": "ok"})
    bot.handoff.readiness.set(Phase.MIGRATING)
    assert (await get(bot.url, "/readyz"))[0] == 503
    # while the schema is migrated, Slack and the API get a 503 too (not a half-migrated answer)
    assert (await bot.slack.command(REP1, "/handoff", "help")).status == 503
    assert (await api(bot, {"email": "a@b.co"}))[0] == 503
    assert (await get(bot.url, "/healthz"))[0] == 200  # liveness: the process is fine
    bot.handoff.readiness.set(Phase.DRAINING)
    assert await get(bot.url, "/readyz") == (503, {"status": "unavailable", "phase": "draining"})
    assert (await bot.slack.command(REP1, "/handoff", "help")).status == 200  # still served while draining
    assert value(await scrape(bot.url), "handoff_ready") == 0
    bot.handoff.readiness.set(Phase.READY)

    # the database gone: an engine pointed at a closed port
    gone = make_engine("postgresql+asyncpg://handoff@127.0.0.1:1/handoff")
    from tests.conftest import serve_bot

    settings = make_settings(database_url, fake_slack)
    async with serve_bot(gone, fake_slack, clock, settings) as down:
        status, body = await get(down.url, "/readyz")
        assert status == 503 and body["database"] == "unreachable"
        assert (await get(down.url, "/healthz"))[0] == 503
        samples = await scrape(down.url)  # still 200, without the queue's series
        assert value(samples, "handoff_outbox_depth") == 0
    await gone.dispose()


def test_channel_label_keeps_people_out() -> None:
    assert metrics.channel_label("C0SALES") == "C0SALES"
    assert metrics.channel_label("G0PRIVATE") == "G0PRIVATE"
    for person in ("U0REP1", "W0ENTERPRISE", "D0DIRECT", "C0<!channel>", "C" + "x" * 30):
        assert metrics.channel_label(person) == "dm"
    assert metrics.channel_label(None) == "none"


async def test_a_late_ack_is_counted(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.slack import edge

    await api(bot, {"email": "jane@acme.com", "name": "Jane Doe"})
    await bot.flush()
    before = await scrape(bot.url)
    monkeypatch.setattr(edge, "ACK_DEADLINE", 0.05)  # Slack's budget, shrunk for the test
    bot.fake.set_latency(0.5)  # the membership check outlasts it
    try:
        assert (await bot.slack.click(REP1, "Claim", channel_id=SALES)).status == 200
    finally:
        bot.fake.set_latency(0)
    for _ in range(100):  # the listener finishes after its ack
        after = await scrape(bot.url)
        if delta(before, after, "handoff_claims_total", result="won"):
            break
        await asyncio.sleep(0.05)
    assert delta(before, after, "handoff_slack_late_acks_total", kind="block_actions") == 1
    assert delta(before, after, "handoff_requests_total", kind="block_actions", outcome="late_ack") == 1
    assert delta(before, after, "handoff_claims_total", result="won") == 1
