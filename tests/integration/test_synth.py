"""bench/synth.py at small size: the SQL aggregates agree with the same numbers computed in Python
from the generated rows (the benchmark's data is only useful if the reports read it right)."""

from __future__ import annotations

import statistics
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.synth import Synth, insert
from bot.domain.periods import PeriodKind, period_containing
from bot.storage.db import make_session_factory
from bot.storage.models import Lead
from bot.storage.reports import Reports, Scope
from tests.metrics_fixture import NOW

TEAM = "T0SYNTH"
N = 600


def within(value, start, end) -> bool:
    return value is not None and start <= value < end


async def test_generated_data_reads_back_as_computed_by_hand(engine: AsyncEngine) -> None:
    synth = Synth(team_id=TEAM, now=NOW, seed=11, days=120)
    assert await insert(engine, synth, N) == N
    rows = list(Synth(team_id=TEAM, now=NOW, seed=11, days=120).leads(N))  # same seed, same rows
    quarter = period_containing(PeriodKind.QUARTER, NOW, ZoneInfo("UTC"))
    start, end = quarter.start_utc, NOW
    factory = make_session_factory(engine)
    async with factory() as session:
        assert await session.scalar(select(func.count()).select_from(Lead).where(Lead.team_id == TEAM)) == N
        got = await Reports(session).span_numbers(TEAM, start, end)
        enterprise = await Reports(session).span_numbers(TEAM, start, end, Scope.parse("enterprise"))
        quality = await Reports(session).lead_quality(TEAM, NOW, (30, 90))

    def count(column: str, segment: str | None = None) -> int:
        return sum(
            1 for r in rows if within(r[column], start, end) and (segment is None or r["segment"] == segment)
        )

    assert got.delivered == count("created_at") > 100
    assert got.claimed == count("claimed_at")
    assert got.verdicts == count("verdict_at")
    assert got.accepted == count("accepted_at")
    assert got.meetings == count("meeting_at")
    assert got.won == count("won_at")
    assert got.revenue == pytest.approx(
        float(sum(r["won_amount"] for r in rows if within(r["won_at"], start, end)))
    )
    claims = [
        (r["claimed_at"] - r["created_at"]).total_seconds()
        for r in rows
        if within(r["claimed_at"], start, end)
    ]
    assert got.median_claim_seconds == pytest.approx(statistics.median(claims), abs=0.01)
    assert enterprise.delivered == count("created_at", "enterprise")
    assert enterprise.accepted == count("accepted_at", "enterprise")

    for days in (30, 90):
        since = NOW - timedelta(days=days)
        cohort = [r for r in rows if since <= r["created_at"] < NOW]
        by_source = {row.source: row for row in quality.by_source[days]}
        assert sum(r.delivered for r in by_source.values()) == len(cohort)
        for source, row in by_source.items():
            mine = [r for r in cohort if r["source"] == source]
            assert row.delivered == len(mine)
            assert row.verdicts == sum(1 for r in mine if r["verdict_at"])
            assert row.accepted == sum(1 for r in mine if r["accepted_at"])
            assert row.won == sum(1 for r in mine if r["won_at"])
            ratings = [r["quality"] for r in mine if r["quality"] is not None]
            assert row.ratings == len(ratings) and row.rating_sum == sum(ratings)
            reasons: dict[str, int] = {}
            for r in mine:
                if r["reject_reason"]:
                    reasons[r["reject_reason"]] = reasons.get(r["reject_reason"], 0) + 1
            assert row.reasons == reasons
