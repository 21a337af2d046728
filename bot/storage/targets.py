"""Targets and hand-reported metric values (tables `target`, `metric_report`), scoped by team_id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import MetricReport, Target


class TargetRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(
        self,
        *,
        team_id: str,
        metric: str,
        period_kind: str,
        period_start: date,
        segment: str,
        value: float,
        by: str | None,
        at: datetime,
    ) -> tuple[Target, float | None]:
        """Set the target; returns it and the value it replaced (None when it is new)."""
        row = await self.session.scalar(
            select(Target).where(
                Target.team_id == team_id,
                Target.metric == metric,
                Target.period_kind == period_kind,
                Target.period_start == period_start,
                Target.segment == segment,
            )
        )
        previous = None
        if row is None:
            row = Target(
                team_id=team_id,
                metric=metric,
                period_kind=period_kind,
                period_start=period_start,
                segment=segment,
                value=value,
                set_by=by,
                created_at=at,
                updated_at=at,
            )
            self.session.add(row)
        else:
            previous = row.value
            row.value, row.set_by, row.updated_at = value, by, at
        await self.session.flush()
        return row, previous

    async def for_periods(self, team_id: str, periods: Sequence[tuple[str, date]]) -> list[Target]:
        """Targets of the given (kind, start) periods, in a stable display order."""
        if not periods:
            return []
        which = or_(*(and_(Target.period_kind == k, Target.period_start == s) for k, s in periods))
        stmt = (
            select(Target)
            .where(Target.team_id == team_id, which)
            .order_by(Target.period_kind, Target.segment, Target.id)
        )
        return list(await self.session.scalars(stmt))

    async def since(self, team_id: str, since: date | None) -> list[Target]:
        stmt = select(Target).where(Target.team_id == team_id)
        if since is not None:
            stmt = stmt.where(Target.period_start >= since)
        return list(await self.session.scalars(stmt.order_by(Target.period_start, Target.metric, Target.id)))

    async def exists_for_metric(self, team_id: str, metric: str) -> bool:
        found = await self.session.scalar(
            select(Target.id).where(Target.team_id == team_id, Target.metric == metric).limit(1)
        )
        return found is not None


class MetricReportRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, *, team_id: str, metric: str, segment: str, value: float, by: str | None, at: datetime
    ) -> MetricReport:
        row = MetricReport(
            team_id=team_id, metric=metric, segment=segment, value=value, reported_by=by, reported_at=at
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def latest(
        self, team_id: str, metric: str, segment: str, start: datetime, end: datetime
    ) -> MetricReport | None:
        """The newest report in the span: each report states the period's total so far."""
        stmt = (
            select(MetricReport)
            .where(
                MetricReport.team_id == team_id,
                MetricReport.metric == metric,
                MetricReport.segment == segment,
                MetricReport.reported_at >= start,
                MetricReport.reported_at < end,
            )
            .order_by(MetricReport.reported_at.desc(), MetricReport.id.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)
