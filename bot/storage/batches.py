"""Bulk batches: leads that came to one channel at once from one source/campaign, summarised by one
card whose thread lists them (bot.outbox.bulk_renderer), claimed one by one or "next"."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.lead import Status
from bot.storage.models import Lead, LeadBatch
from bot.storage.raw import raw_sql
from bot.storage.repositories import dialect_name, visible_sql


class BatchRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_label(self, team_id: str, channel_id: str, label: str) -> None:
        """Hold, until the transaction ends, the right to start a batch for this channel and label:
        concurrent chunks of one import (several API requests at once, several instances) then
        find one another's batch instead of each posting a summary. PostgreSQL: an advisory
        transaction lock; SQLite runs one writer at a time anyway."""
        if dialect_name(self.session) != "postgresql":
            return
        digest = hashlib.blake2b(f"{team_id}\x1f{channel_id}\x1f{label}".encode(), digest_size=8).digest()
        await self.session.execute(
            select(func.pg_advisory_xact_lock(int.from_bytes(digest, "big", signed=True)))
        )

    async def leads_since(self, team_id: str, channel_ids: Sequence[str], since: datetime) -> dict[str, int]:
        """New leads per channel created since `since` (burst detection; the (team_id, created_at,
        segment, channel_id) index covers it)."""
        if not channel_ids:
            return {}
        rows = await self.session.execute(
            select(Lead.channel_id, func.count(Lead.id))
            .where(
                Lead.team_id == team_id,
                Lead.created_at >= since,
                Lead.channel_id.in_(sorted(set(channel_ids))),
            )
            .group_by(Lead.channel_id)
        )
        return {str(channel): int(count) for channel, count in rows}

    async def open_batch(
        self, team_id: str, channel_id: str, label: str, since: datetime
    ) -> LeadBatch | None:
        """The newest batch for this channel and label started since `since`: the next chunk of
        the same import joins it instead of posting a second summary."""
        stmt = (
            select(LeadBatch)
            .where(
                LeadBatch.team_id == team_id,
                LeadBatch.channel_id == channel_id,
                LeadBatch.label == label,
                LeadBatch.created_at >= since,
            )
            .order_by(LeadBatch.created_at.desc(), LeadBatch.id.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def add(self, team_id: str, channel_id: str, label: str, *, now: datetime) -> LeadBatch:
        batch = LeadBatch(
            team_id=team_id, channel_id=channel_id, label=label, hot_count=0, created_at=now, updated_at=now
        )
        self.session.add(batch)
        await self.session.flush()
        return batch

    async def add_hot(self, batch_id: int, count: int, *, now: datetime) -> None:
        await self.session.execute(
            update(LeadBatch)
            .where(LeadBatch.id == batch_id)
            .values(hot_count=LeadBatch.hot_count + count, updated_at=now)
            .execution_options(synchronize_session=False)
        )

    async def get(self, team_id: str, batch_id: int) -> LeadBatch | None:
        return await self.session.scalar(
            select(LeadBatch).where(LeadBatch.team_id == team_id, LeadBatch.id == batch_id)
        )

    async def get_many(self, batch_ids: Sequence[int]) -> dict[int, LeadBatch]:
        if not batch_ids:
            return {}
        rows = await self.session.scalars(select(LeadBatch).where(LeadBatch.id.in_(sorted(set(batch_ids)))))
        return {batch.id: batch for batch in rows}

    async def set_message(self, batch_id: int, ts: str) -> None:
        await self.session.execute(
            update(LeadBatch)
            .where(LeadBatch.id == batch_id)
            .values(message_ts=ts)
            .execution_options(synchronize_session=False)
        )

    async def counts(self, batch_id: int) -> dict[str, int]:
        """Leads of the batch by status (the (batch_id, status) index)."""
        rows = await self.session.execute(
            select(Lead.status, func.count(Lead.id)).where(Lead.batch_id == batch_id).group_by(Lead.status)
        )
        return {status: int(count) for status, count in rows}

    async def line(self, batch_id: int, line_ts: str) -> list[Lead]:
        """The leads one thread message lists, in the order it lists them."""
        stmt = select(Lead).where(Lead.batch_id == batch_id, Lead.line_ts == line_ts).order_by(Lead.id)
        return list(await self.session.scalars(stmt))

    async def unclaimed(self, team_id: str, batch_id: int, limit: int) -> list[int]:
        """The best unclaimed leads first: highest score, then the longest waiting."""
        stmt = (
            select(Lead.id)
            .where(Lead.team_id == team_id, Lead.batch_id == batch_id, Lead.status == Status.NEW.value)
            .order_by(func.coalesce(Lead.score, -1).desc(), Lead.id)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))

    async def set_line(self, team_id: str, lead_ids: Sequence[int], *, line_ts: str, at: datetime) -> None:
        """The thread message that lists these leads went out at `at`: sales can see them now."""
        if not lead_ids:
            return
        visible, params = visible_sql(self.session, at)
        await raw_sql(self.session).execute(
            f"UPDATE lead SET line_ts = ?, {visible} WHERE team_id = ? AND id IN ({', '.join('?' * len(lead_ids))})",
            [line_ts, *params, team_id, *lead_ids],
        )
