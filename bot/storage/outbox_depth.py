"""The outbox's queue as the /metrics scrape reads it: one grouped query over every workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.outbox import QUEUED, OutboxStatus
from bot.storage.models import Outbox


@dataclass(frozen=True)
class QueueGroup:
    purpose: str
    channel_id: str | None
    status: str  # queued (pending or sending) or failed
    count: int
    oldest: datetime | None


async def outbox_groups(engine: AsyncEngine) -> list[QueueGroup]:
    """Queued and failed rows by purpose and channel. Sent rows are most of the table and are
    left out by the status filter; the groups are few (purposes × channels in use)."""
    queued = Outbox.status.in_(QUEUED)
    query = (
        select(
            Outbox.purpose,
            Outbox.channel_id,
            queued.label("queued"),
            func.count(Outbox.id),
            func.min(Outbox.created_at),
        )
        .where(Outbox.status.in_((*QUEUED, OutboxStatus.FAILED)))
        .group_by(Outbox.purpose, Outbox.channel_id, queued)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        QueueGroup(
            purpose=purpose,
            channel_id=channel,
            status="queued" if is_queued else OutboxStatus.FAILED.value,
            count=int(count),
            oldest=oldest,
        )
        for purpose, channel, is_queued, count, oldest in rows
    ]
