"""Outbound events (Standard Webhooks): endpoints per workspace with an event filter, and `emit`,
which every moment calls in the transaction of the change it reports.

`data` is snapshotted at the change, not rendered at send time: an event says what happened at
that moment (`lead.claimed` must not arrive showing the lead released an hour later), a retry
and a replay carry the same body, and the lead's API view is computed once per event, not once
per endpoint and attempt. Receivers that want the lead as it is now call `GET /api/leads/{id}`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.errors import InvalidInput, NotFound
from bot.domain.events import SLA_BREACHES, EventKind
from bot.domain.webhooks import (
    EventType,
    check_url,
    host_of,
    matches,
    new_secret,
    parse_filter,
    secret_key,
)
from bot.services.context import Ctx
from bot.services.lead_info import lead_view
from bot.storage.encryption import seal
from bot.storage.models import Lead, WebhookEndpoint, WebhookEvent

MAX_ENDPOINTS = 10

# lead events and the outbound event each one is
LEAD_EVENT_TYPES: dict[str, EventType] = {
    EventKind.CLAIMED: EventType.LEAD_CLAIMED,
    EventKind.RELEASED: EventType.LEAD_RELEASED,
    EventKind.ACCEPTED: EventType.LEAD_ACCEPTED,
    EventKind.REJECTED: EventType.LEAD_REJECTED,
    EventKind.STAGE: EventType.LEAD_STAGE_CHANGED,
    EventKind.REASSIGNED: EventType.LEAD_ROUTED,
    **{kind: EventType.LEAD_SLA_BREACHED for kind in SLA_BREACHES},
}


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once, where it was made


def body_of(event_type: str, at: datetime, data: dict[str, Any]) -> str:
    return json.dumps({"type": event_type, "timestamp": at.isoformat(), "data": data}, separators=(",", ":"))


async def _endpoints(ctx: Ctx) -> list[WebhookEndpoint]:
    endpoints = await ctx.uow.webhooks.endpoints(ctx.team_id)
    shortcut = ctx.settings.webhook_url
    if shortcut and ctx.settings.webhook_secret is not None and all(e.url != shortcut for e in endpoints):
        # HANDOFF_WEBHOOK_URL + _SECRET: the single-workspace shortcut becomes an endpoint on first use
        endpoints.append(
            await ctx.uow.webhooks.add_endpoint(
                WebhookEndpoint(
                    team_id=ctx.team_id,
                    url=shortcut,
                    secret=seal(
                        ctx.settings.webhook_secret.get_secret_value(), ctx.settings.secret("encryption_key")
                    ),
                    events=["*"],
                    created_by=None,
                    created_at=ctx.now,
                )
            )
        )
    return endpoints


async def emit(
    ctx: Ctx, event_type: EventType, *, lead: Lead | None = None, data: dict[str, Any] | None = None
) -> None:
    """Write the event and one outbox row per endpoint that wants it, in the caller's transaction.
    A workspace with no endpoint writes nothing; a disabled endpoint's events are kept (for
    `handoff webhooks replay`) but not queued."""
    endpoints = await _endpoints(ctx)
    if not endpoints:
        return
    if lead is not None:
        data = await lead_view(ctx, lead)
    event = await ctx.uow.webhooks.add_event(
        WebhookEvent(
            team_id=ctx.team_id,
            type=event_type.value,
            lead_id=lead.id if lead is not None else None,
            body=body_of(event_type.value, ctx.now, data or {}),
            created_at=ctx.now,
        )
    )
    for endpoint in endpoints:
        if endpoint.disabled_at is None and matches(endpoint.events, event_type.value):
            await ctx.notifier.webhook(
                ctx.team_id, endpoint_id=endpoint.id, host=host_of(endpoint.url), event_id=event.id
            )


async def emit_lead_event(ctx: Ctx, kind: str, lead: Lead) -> None:
    """The outbound event for a lead event just appended, if it is one."""
    event_type = LEAD_EVENT_TYPES.get(kind)
    if event_type is not None:
        await emit(ctx, event_type, lead=lead)


# ------------------------------------------------------------------------------ endpoints


async def add_endpoint(
    ctx: Ctx, url: str, *, events: str | list[str] | None = None, secret: str | None = None, by: str | None
) -> NewEndpoint:
    url = check_url(url, allow_private=ctx.settings.webhook_allow_private)
    event_filter = parse_filter(events)
    secret = secret.strip() if secret else new_secret()
    secret_key(secret)
    existing = await ctx.uow.webhooks.endpoints(ctx.team_id)
    if any(e.url == url for e in existing):
        raise InvalidInput({"url": "already an endpoint; remove it first to change it"})
    if len(existing) >= MAX_ENDPOINTS:
        raise InvalidInput({"url": f"at most {MAX_ENDPOINTS} endpoints per workspace"})
    endpoint = await ctx.uow.webhooks.add_endpoint(
        WebhookEndpoint(
            team_id=ctx.team_id,
            url=url,
            secret=seal(secret, ctx.settings.secret("encryption_key")),  # at rest: the tokens' key
            events=event_filter,
            created_by=by,
            created_at=ctx.now,
        )
    )
    return NewEndpoint(endpoint=endpoint, secret=secret)


def describe(endpoint: WebhookEndpoint) -> str:
    """One line for `list`: id, URL, events, state."""
    if endpoint.disabled_at is not None:
        state = f"disabled {endpoint.disabled_at:%Y-%m-%d %H:%M} UTC"
    elif endpoint.failing_since is not None:
        state = (
            f"failing since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC ({endpoint.last_error or 'error'})"
        )
    else:
        state = "active"
    return f"#{endpoint.id} {endpoint.url} · {', '.join(endpoint.events)} · {state}"


async def list_endpoints(ctx: Ctx) -> list[WebhookEndpoint]:
    return await _endpoints(ctx)


async def find_endpoint(ctx: Ctx, ref: str) -> WebhookEndpoint:
    """By ID, or by URL."""
    ref = ref.strip()
    endpoint = (
        await ctx.uow.webhooks.endpoint(ctx.team_id, int(ref))
        if ref.isdigit() and len(ref) < 18
        else await ctx.uow.webhooks.by_url(ctx.team_id, ref)
    )
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {ref!r}; see `handoff webhooks list`")
    return endpoint


async def remove_endpoint(ctx: Ctx, ref: str) -> WebhookEndpoint:
    endpoint = await find_endpoint(ctx, ref)
    await ctx.uow.webhooks.remove(endpoint)  # its queued rows fail at send time, quietly
    return endpoint


async def enable_endpoint(ctx: Ctx, ref: str) -> WebhookEndpoint:
    endpoint = await find_endpoint(ctx, ref)
    await ctx.uow.webhooks.enable(endpoint)
    return endpoint


async def send_test(ctx: Ctx, ref: str) -> WebhookEvent:
    """A `webhook.test` event to this one endpoint, through the outbox like any other."""
    endpoint = await find_endpoint(ctx, ref)
    if endpoint.disabled_at is not None:
        raise InvalidInput({"endpoint": "is disabled; enable it first (`handoff webhooks enable`)"})
    event = await ctx.uow.webhooks.add_event(
        WebhookEvent(
            team_id=ctx.team_id,
            type=EventType.PING.value,
            lead_id=None,
            body=body_of(EventType.PING.value, ctx.now, {"endpoint_id": endpoint.id, "url": endpoint.url}),
            created_at=ctx.now,
        )
    )
    await ctx.notifier.webhook(
        ctx.team_id, endpoint_id=endpoint.id, host=host_of(endpoint.url), event_id=event.id
    )
    return event


async def replay(ctx: Ctx, since: datetime, *, ref: str | None = None) -> int:
    """Queue again every event since `since` for the endpoints that want it (or one endpoint).
    Each keeps its webhook-id, so a receiver that had it already dedupes it."""
    endpoints = [await find_endpoint(ctx, ref)] if ref else await ctx.uow.webhooks.endpoints(ctx.team_id)
    endpoints = [e for e in endpoints if e.disabled_at is None]
    queued = 0
    for event in await ctx.uow.webhooks.events_since(ctx.team_id, since):
        for endpoint in endpoints:
            if event.type != EventType.PING.value and matches(endpoint.events, event.type):
                await ctx.notifier.webhook(
                    ctx.team_id, endpoint_id=endpoint.id, host=host_of(endpoint.url), event_id=event.id
                )
                queued += 1
    return queued
