"""The Prometheus metrics, all in one registry, each recorded from a line or two at its site.

Labels are small closed sets (a request kind, a lane, a Slack method, a job name) or a Slack
channel ID, never a person or a lead: `channel_label` folds DMs and user IDs into "dm" and the
scrape keeps only the busiest channels. Each instance counts its own work; the outbox gauges are
read from the database at scrape time, so every instance reports the same queue.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

from bot.domain.outbox import DISCUSSION_PURPOSES, LEAD_PURPOSES, Purpose

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

# request latency: Slack wants an answer within 3 s; the edge answers anyway at 2.5 s
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# speed to lead: seconds to days (5 minutes is what the lead-response studies measure against)
_SPEED = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600, 3 * 24 * 3600)
# channels kept as their own series at a scrape; the rest are summed into channel="other"
MAX_CHANNELS = 20
FOLDED_CHANNELS = frozenset({"dm", "none"})  # channel labels that stand for many conversations

requests = Counter(
    "handoff_requests",
    "HTTP requests by kind (Slack request type or API route) and outcome",
    ["kind", "outcome"],
    registry=REGISTRY,
)
request_seconds = Histogram(
    "handoff_request_duration_seconds",
    "Time to answer an HTTP request, by kind",
    ["kind"],
    buckets=_LATENCY,
    registry=REGISTRY,
)
late_acks = Counter(
    "handoff_slack_late_acks",
    "Slack requests answered at the 2.5 s ack deadline while their listener carried on",
    ["kind"],
    registry=REGISTRY,
)
slack_calls = Counter(
    "handoff_slack_calls",
    "Slack Web API calls made by the outbox, by method and status (ok, ratelimited, error, timeout, connection)",
    ["method", "status"],
    registry=REGISTRY,
)
slack_call_seconds = Histogram(
    "handoff_slack_call_duration_seconds",
    "Slack Web API call time, by method",
    ["method"],
    buckets=_LATENCY,
    registry=REGISTRY,
)
lookups = Counter(
    "handoff_outbox_lookups",
    "Looks for an earlier post before a retry (found: it was posted already)",
    ["result"],
    registry=REGISTRY,
)
deliveries = Counter(
    "handoff_outbox_deliveries",
    "Outbox attempts recorded, by lane and result (sent, retry, wait, release, fail)",
    ["lane", "result"],
    registry=REGISTRY,
)
webhook_calls = Counter(
    "handoff_webhook_calls",
    "Outbound event deliveries (Standard Webhooks), by status (ok, ratelimited, error, timeout, connection, refused)",
    ["status"],
    registry=REGISTRY,
)
webhook_call_seconds = Histogram(
    "handoff_webhook_call_duration_seconds",
    "Outbound event delivery time (one POST to an endpoint)",
    buckets=_LATENCY,
    registry=REGISTRY,
)
outbox_depth = Gauge(
    "handoff_outbox_depth",
    "Slack writes queued (pending or being sent), by lane and channel, read at scrape time",
    ["lane", "channel"],
    registry=REGISTRY,
)
outbox_oldest = Gauge(
    "handoff_outbox_oldest_pending_seconds",
    "Age of the oldest queued Slack write, by lane and channel, read at scrape time",
    ["lane", "channel"],
    registry=REGISTRY,
)
outbox_failed = Gauge(
    "handoff_outbox_failed",
    "Slack writes given up (until /handoff status retry), by lane, read at scrape time",
    ["lane"],
    registry=REGISTRY,
)
leads = Counter(
    "handoff_leads",
    "Leads submitted, by door (slack, api, csv) and result (created, duplicate, invalid)",
    ["door", "result"],
    registry=REGISTRY,
)
claims = Counter("handoff_claims", "Claim clicks, by result (won, too_late)", ["result"], registry=REGISTRY)
verdicts = Counter(
    "handoff_verdicts", "Sales' verdicts (accepted, rejected, released)", ["verdict"], registry=REGISTRY
)
sla_steps = Counter(
    "handoff_sla_steps",
    "SLA steps fired (sla_reminder, sla_escalation, sla_verdict, sla_stage)",
    ["step"],
    registry=REGISTRY,
)
lead_visible_seconds = Histogram(
    "handoff_lead_visible_seconds",
    "Speed to lead: from a lead's arrival to its card's post recorded",
    buckets=_SPEED,
    registry=REGISTRY,
)
lead_claimed_seconds = Histogram(
    "handoff_lead_claimed_seconds",
    "Speed to lead: from a lead's arrival to its claim",
    buckets=_SPEED,
    registry=REGISTRY,
)
job_runs = Counter(
    "handoff_job_runs",
    "Scheduled job runs per workspace, by job and result (ran, skipped: another instance had the slot, failed)",
    ["job", "result"],
    registry=REGISTRY,
)
job_seconds = Histogram(
    "handoff_job_duration_seconds",
    "Time a scheduled job's run takes (all workspaces), by job",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
db_pool = Gauge(
    "handoff_db_pool_connections",
    "Database connections of this instance's pool, by state (in_use, idle, overflow, size)",
    ["state"],
    registry=REGISTRY,
)
ready = Gauge("handoff_ready", "1 while this instance answers /readyz with 200", registry=REGISTRY)

_DOORS = frozenset({"slack", "api", "csv", "demo", "hubspot", "salesforce"})


def lane(purpose: str) -> str:
    """The queue a write waits in (today's purpose groups; lanes of their own come later)."""
    if purpose in LEAD_PURPOSES:
        return "lead"
    if purpose in DISCUSSION_PURPOSES:
        return "discussion"
    if purpose == Purpose.FILE_UPLOAD:
        return "file"
    if purpose == Purpose.ALERT:
        return "alert"
    if purpose == Purpose.WEBHOOK:
        return "webhook"
    return "message"


def channel_label(channel_id: str | None) -> str:
    """A channel ID as a label: a DM or a row addressed to a user ID is a person, so "dm"."""
    if not channel_id:
        return "none"
    if channel_id[0] in "CG" and channel_id.isalnum() and len(channel_id) <= 20:
        return channel_id
    return "dm"


def door(origin: str) -> str:
    return origin if origin in _DOORS else "other"


def lead_submitted(origin: str, result: str) -> None:
    leads.labels(door(origin), result).inc()


def seconds_between(start: datetime, end: datetime) -> float:
    """For the speed-to-lead histograms; SQLite hands back naive datetimes, which are UTC."""
    start = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
    end = end if end.tzinfo is not None else end.replace(tzinfo=UTC)
    return max(0.0, (end - start).total_seconds())


@contextmanager
def timed(histogram: Histogram, *labels: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        (histogram.labels(*labels) if labels else histogram).observe(time.perf_counter() - start)


# what the edge tells the request counter (bot/handlers/ops.py) about a request it has read
REQUEST_KIND = web.RequestKey("metrics_kind", str)
REQUEST_OUTCOME = web.RequestKey("metrics_outcome", str)
