"""The SLA passes' reads and writes on lead.sla_check_at ("don't look at this lead before"):
lease the due leads, write back their next deadlines, rewind them after a policy change, and
count the backlog for `/handoff status`."""

from __future__ import annotations

import typing
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Lead
from bot.storage.repositories import dialect_name


class SlaCheckRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lease(self, team_id: str, *, now: datetime, until: datetime, limit: int) -> list[Lead]:
        """The leads whose SLA check time has come, the longest waiting first (after the first look
        that is the most overdue deadline), up to `limit`; their check time moves to `until` so a
        concurrent pass (another instance) takes the next ones, and a crashed pass's leads come back
        when the lease ends. The index on (team_id, sla_check_at) keeps this cost to the due leads."""
        stmt = (
            select(Lead)
            .where(Lead.team_id == team_id, Lead.sla_check_at <= now)
            .order_by(Lead.sla_check_at, Lead.id)
            .limit(limit)
            .execution_options(populate_existing=True)
        )
        if dialect_name(self.session) == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        leads = list(await self.session.scalars(stmt))
        ids = [lead.id for lead in leads]
        for i in range(0, len(ids), 500):  # keep IN lists a sane size
            # by id alone (the ids are this team's, just read): with `team_id = ?` beside it SQLite
            # walked the team's whole (team_id, sla_check_at) index instead of the primary key,
            # 13 ms at 100k open leads on its only connection (bench.jobs)
            await self.session.execute(
                update(Lead)
                .where(Lead.id.in_(ids[i : i + 500]))
                .values(sla_check_at=until)
                .execution_options(synchronize_session=False)
            )
        return leads

    async def settle(
        self,
        team_id: str,
        *,
        leased_until: datetime,
        checks: Sequence[tuple[int, str, datetime | None]],
    ) -> None:
        """Write each judged lead's next check time — (lead id, status judged, when; None: no step can
        come) — unless the lead moved meanwhile: a move rewrites sla_check_at (and maybe the status),
        and its value stands."""
        if not checks:
            return
        table = typing.cast(Table, Lead.__table__)
        stmt = (
            update(table)
            .where(
                table.c.team_id == team_id,
                table.c.id == bindparam("b_id"),
                table.c.status == bindparam("b_status"),
                table.c.sla_check_at == leased_until,
            )
            .values(sla_check_at=bindparam("b_next", type_=table.c.sla_check_at.type))
        )
        await self.session.execute(
            stmt, [{"b_id": lead_id, "b_status": status, "b_next": at} for lead_id, status, at in checks]
        )

    async def rewind(self, team_id: str, now: datetime, *, limit: int) -> int:
        """Bring up to `limit` of the leads whose check time is later than `now` back to `now`, so
        the next pass judges them again (the SLA thresholds or the calendar changed: a stored
        deadline may now be too late); returns how many were found — fewer than `limit`: none is
        left. A caller rewinds every open lead a chunk per transaction (one UPDATE of 100k rows held
        SQLite's only connection, and its loop, for about a second; bench.jobs)."""
        ids = list(
            await self.session.scalars(
                select(Lead.id)
                .where(Lead.team_id == team_id, Lead.sla_check_at > now)
                .order_by(Lead.sla_check_at)
                .limit(limit)
            )
        )
        if ids:
            # by id (the primary key) as in lease(); `sla_check_at > now` again so that on
            # PostgreSQL a row another instance rewound (or a move rewrote) since the read, whose
            # lock we waited for, is judged on its new value and left alone
            await self.session.execute(
                update(Lead)
                .where(Lead.id.in_(ids), Lead.sla_check_at > now)
                .values(sla_check_at=now)
                .execution_options(synchronize_session=False)
            )
        return len(ids)

    async def backlog(self, team_id: str, now: datetime) -> tuple[int, datetime | None]:
        """How many leads are due an SLA check now, and since when the oldest waits (one index range)."""
        row = (
            await self.session.execute(
                select(func.count(), func.min(Lead.sla_check_at)).where(
                    Lead.team_id == team_id, Lead.sla_check_at <= now
                )
            )
        ).one()
        return int(row[0] or 0), row[1]
