"""Outbound-event endpoints and the events written for them (tables webhook_endpoint and
webhook_event)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.outbox import Purpose
from bot.storage.models import Outbox, WebhookEndpoint, WebhookEvent
from bot.storage.raw import raw_sql
from bot.storage.repositories import affected

ENDPOINT = WebhookEndpoint.__table__


class WebhookRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # a workspace's endpoints, read once per transaction: every lead move asks (a quick add asks
        # twice: lead.created and lead.routed); any write to the endpoints here forgets them
        self._listed: dict[str, list[WebhookEndpoint]] = {}

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        self._listed.clear()
        self.session.add(endpoint)
        await self.session.flush()
        return endpoint

    async def endpoints(self, team_id: str) -> list[WebhookEndpoint]:
        listed = self._listed.get(team_id)
        if listed is None:
            # through the driver (bot.storage.raw): every lead move asks, most workspaces have none
            raw = raw_sql(self.session)
            codec = raw.codec(ENDPOINT)
            rows = await raw.rows(
                f"SELECT {codec.column_list} FROM webhook_endpoint WHERE team_id = ? ORDER BY id", (team_id,)
            )
            listed = self._listed[team_id] = [raw.refreshed(WebhookEndpoint, codec.row(row)) for row in rows]
        return list(listed)

    async def endpoint(self, team_id: str, endpoint_id: int) -> WebhookEndpoint | None:
        return await self.session.scalar(
            select(WebhookEndpoint).where(
                WebhookEndpoint.team_id == team_id, WebhookEndpoint.id == endpoint_id
            )
        )

    async def by_url(self, team_id: str, url: str) -> WebhookEndpoint | None:
        return await self.session.scalar(
            select(WebhookEndpoint).where(WebhookEndpoint.team_id == team_id, WebhookEndpoint.url == url)
        )

    async def remove(self, endpoint: WebhookEndpoint) -> None:
        self._listed.clear()
        await self.session.delete(endpoint)
        await self.session.flush()

    async def mark_failing(self, endpoint_id: int, *, at: datetime, error: str) -> None:
        """The first failure since the last success starts the clock; later ones keep it."""
        self._listed.clear()
        await self.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.failing_since.is_(None))
            .values(failing_since=at)
        )
        await self.session.execute(
            update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(last_error=error[:300])
        )

    async def mark_working(self, endpoint_id: int) -> None:
        self._listed.clear()
        await self.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.failing_since.is_not(None))
            .values(failing_since=None, last_error=None)
        )

    async def disable(self, endpoint_id: int, *, at: datetime) -> bool:
        """Compare-and-set: True for the one caller that disabled it (and so alerts, once)."""
        self._listed.clear()
        result = await self.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.disabled_at.is_(None))
            .values(disabled_at=at)
        )
        return affected(result) == 1

    async def enable(self, endpoint: WebhookEndpoint) -> None:
        self._listed.clear()
        endpoint.disabled_at = None
        endpoint.failing_since = None
        endpoint.last_error = None
        await self.session.flush()

    async def add_event(self, event: WebhookEvent) -> WebhookEvent:
        self.session.add(event)
        await self.session.flush()
        return event

    async def event(self, event_id: int) -> WebhookEvent | None:
        return await self.session.get(WebhookEvent, event_id)

    async def events_since(
        self, team_id: str, since: datetime, limit: int = 10_000
    ) -> Sequence[WebhookEvent]:
        rows = await self.session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.team_id == team_id, WebhookEvent.created_at >= since)
            .order_by(WebhookEvent.id)
            .limit(limit)
        )
        return list(rows)

    async def deliveries(self, team_id: str, limit: int = 8) -> list[dict[str, object]]:
        """The delivery log: the latest webhook rows with their event type and state."""
        rows = (
            await self.session.execute(
                select(Outbox, WebhookEvent.type)
                .join(WebhookEvent, WebhookEvent.id == Outbox.ref_id)
                .where(Outbox.team_id == team_id, Outbox.purpose == Purpose.WEBHOOK.value)
                .order_by(Outbox.id.desc())
                .limit(limit)
            )
        ).all()
        return [
            {
                "endpoint_id": (row.payload or {}).get("endpoint_id"),
                "event_id": row.ref_id,
                "type": event_type,
                "status": row.status,
                "attempts": row.attempts,
                "error": row.last_error,
                "at": row.sent_at or row.created_at,
            }
            for row, event_type in rows
        ]
