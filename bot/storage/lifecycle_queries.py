"""Queries for verdicts, the lifecycle and SLA clocks (kept out of repositories.py on purpose)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Lead, ScheduleSlot


async def lock_lead(session: AsyncSession, team_id: str, lead_id: int) -> Lead | None:
    """Read the lead fresh and, on PostgreSQL, hold its row until the transaction ends, so a
    reminder and a concurrent claim cannot both act on the old state."""
    stmt = (
        select(Lead)
        .where(Lead.team_id == team_id, Lead.id == lead_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return await session.scalar(stmt)


async def lease_sla_checks(
    session: AsyncSession, team_id: str, *, now: datetime, until: datetime, limit: int
) -> list[Lead]:
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
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    leads = list(await session.scalars(stmt))
    ids = [lead.id for lead in leads]
    for i in range(0, len(ids), 500):  # keep IN lists a sane size
        await session.execute(
            update(Lead)
            .where(Lead.team_id == team_id, Lead.id.in_(ids[i : i + 500]))
            .values(sla_check_at=until)
            .execution_options(synchronize_session=False)
        )
    return leads


async def settle_sla_checks(
    session: AsyncSession,
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
    table = Lead.__table__
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
    await session.execute(
        stmt, [{"b_id": lead_id, "b_status": status, "b_next": at} for lead_id, status, at in checks]
    )


async def rewind_sla_checks(session: AsyncSession, team_id: str, now: datetime) -> int:
    """Every open lead is judged again from the next pass (the SLA thresholds or the calendar
    changed, so a stored deadline may now be too late)."""
    result = await session.execute(
        update(Lead)
        .where(Lead.team_id == team_id, Lead.sla_check_at > now)
        .values(sla_check_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


async def sla_backlog(session: AsyncSession, team_id: str, now: datetime) -> tuple[int, datetime | None]:
    """How many leads are due an SLA check now, and since when the oldest waits (one index range)."""
    row = (
        await session.execute(
            select(func.count(), func.min(Lead.sla_check_at)).where(
                Lead.team_id == team_id, Lead.sla_check_at <= now
            )
        )
    ).one()
    return int(row[0] or 0), row[1]


async def claimed_slots(
    session: AsyncSession, team_id: str, jobs: Iterable[str], slots: Sequence[str]
) -> set[tuple[str, str]]:
    """Which (job, slot) pairs some instance already claimed."""
    if not slots:
        return set()
    found: set[tuple[str, str]] = set()
    unique = sorted(set(slots))
    for i in range(0, len(unique), 500):  # keep IN lists a sane size
        rows = await session.execute(
            select(ScheduleSlot.job, ScheduleSlot.slot).where(
                ScheduleSlot.team_id == team_id,
                ScheduleSlot.job.in_(list(jobs)),
                ScheduleSlot.slot.in_(unique[i : i + 500]),
            )
        )
        found.update((job, slot) for job, slot in rows)
    return found


async def nurture_leads(session: AsyncSession, team_id: str, limit: int = 50) -> list[Lead]:
    """Leads sales sent back as "not ready", newest first, for marketing to nurture."""
    stmt = (
        select(Lead)
        .where(Lead.team_id == team_id, Lead.nurture.is_(True))
        .order_by(Lead.rejected_at.desc(), Lead.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(stmt))


async def count_nurture(session: AsyncSession, team_id: str) -> int:
    total = await session.scalar(
        select(func.count(Lead.id)).where(Lead.team_id == team_id, Lead.nurture.is_(True))
    )
    return int(total or 0)
