"""Queries for verdicts, the lifecycle and SLA clocks (kept out of repositories.py on purpose)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.lead import ACCEPTED_LIKE, Status
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


async def sla_candidates(
    session: AsyncSession,
    team_id: str,
    *,
    new_before: datetime,
    claimed_before: datetime,
    accepted_before: datetime,
    limit: int = 5000,
) -> list[Lead]:
    """Open leads whose SLA clock started early enough that a step could be due (working time
    never exceeds wall time, so anything started later cannot be due yet)."""
    accepted = [s.value for s in ACCEPTED_LIKE]
    stmt = (
        select(Lead)
        .where(
            Lead.team_id == team_id,
            or_(
                and_(
                    Lead.status == Status.NEW.value,
                    func.coalesce(Lead.stage_changed_at, Lead.created_at) <= new_before,
                ),
                and_(Lead.status == Status.CLAIMED.value, Lead.claimed_at <= claimed_before),
                and_(
                    Lead.status.in_(accepted),
                    func.coalesce(Lead.stage_changed_at, Lead.accepted_at, Lead.created_at)
                    <= accepted_before,
                ),
            ),
        )
        .order_by(Lead.id)
        .limit(limit)
    )
    return list(await session.scalars(stmt))


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
