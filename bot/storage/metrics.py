"""Deprecated: the read side is `bot.storage.reports` (`uow.reports`).

Kept only for modules being edited on other branches (services/digest.py, services/discussions.py,
slack/blocks/home.py, slack/blocks/targets.py); delete once they import from bot.storage.reports.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.reports import (
    NO_SOURCE,
    QualityReport,
    QualityRow,
    Reports,
    Scope,
    SourceVerdicts,
    SpanNumbers,
)

__all__ = [
    "NO_SOURCE",
    "QualityReport",
    "QualityRow",
    "Scope",
    "SourceVerdicts",
    "SpanNumbers",
    "sla_breaches",
    "span_numbers",
    "verdicts_by_source",
]


async def span_numbers(session: AsyncSession, team_id: str, start: datetime, end: datetime) -> SpanNumbers:
    return await Reports(session).span_numbers(team_id, start, end)


async def verdicts_by_source(
    session: AsyncSession, team_id: str, start: datetime, end: datetime
) -> list[SourceVerdicts]:
    return await Reports(session).verdicts_by_source(team_id, start, end)


async def sla_breaches(session: AsyncSession, team_id: str, start: datetime, end: datetime) -> dict[str, int]:
    return await Reports(session).sla_breaches(team_id, start, end)
