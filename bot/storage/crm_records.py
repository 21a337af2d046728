"""The CRM records leads were synced to, and which leads still have a CRM write waiting."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.outbox import OutboxStatus, Purpose
from bot.storage.models import CrmRecord, Outbox
from bot.storage.repositories import insert_ignore

# a CRM write is "pending" for the card while it is queued, being sent, or failed (until retried)
UNSYNCED = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)


class CrmRecordRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, team_id: str, lead_id: int, crm: str) -> CrmRecord | None:
        return await self.session.scalar(
            select(CrmRecord).where(
                CrmRecord.team_id == team_id, CrmRecord.lead_id == lead_id, CrmRecord.crm == crm
            )
        )

    async def for_leads(self, team_id: str, lead_ids: Sequence[int]) -> dict[int, list[CrmRecord]]:
        rows = await self.session.scalars(
            select(CrmRecord)
            .where(CrmRecord.team_id == team_id, CrmRecord.lead_id.in_(list(lead_ids)))
            .order_by(CrmRecord.crm)
        )
        found: dict[int, list[CrmRecord]] = {}
        for row in rows:
            found.setdefault(row.lead_id, []).append(row)
        return found

    async def save(
        self, team_id: str, lead_id: int, crm: str, *, record_id: str, url: str | None, at: datetime
    ) -> None:
        values = {"team_id": team_id, "lead_id": lead_id, "crm": crm, "record_id": record_id, "url": url}
        if not await insert_ignore(self.session, CrmRecord, {**values, "synced_at": at}):
            await self.session.execute(
                update(CrmRecord)
                .where(CrmRecord.team_id == team_id, CrmRecord.lead_id == lead_id, CrmRecord.crm == crm)
                .values(record_id=record_id, url=url, synced_at=at)
            )

    async def unsynced(self, lead_ids: Sequence[int], *, besides: int | None = None) -> set[int]:
        """The leads (of `lead_ids`) with a CRM write queued, in flight or failed; `besides` is a
        row being recorded as sent right now."""
        stmt = select(Outbox.lead_id).where(
            Outbox.lead_id.in_(list(lead_ids)),
            Outbox.purpose == Purpose.CRM_SYNC,
            Outbox.status.in_(UNSYNCED),
        )
        if besides is not None:
            stmt = stmt.where(Outbox.id != besides)
        return {lead_id for lead_id in await self.session.scalars(stmt.distinct()) if lead_id is not None}
