"""Reporting aggregates against numbers counted by hand from tests/metrics_fixture.py."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.periods import Window
from bot.domain.targets import Pace
from bot.storage.db import make_session_factory
from bot.storage.reports import Reports, Scope
from bot.storage.uow import UnitOfWork
from tests.metrics_fixture import NOW, insert_history

TEAM = "T0TEAM"
MARCH = (datetime(2026, 3, 1, tzinfo=UTC), NOW)
Q1 = (datetime(2026, 1, 1, tzinfo=UTC), NOW)


@pytest.fixture
async def seeded(engine: AsyncEngine) -> AsyncEngine:
    await insert_history(engine, TEAM)
    await insert_history(engine, "T0OTHER")  # another workspace's leads must never count
    return engine


async def test_march_numbers(seeded: AsyncEngine) -> None:
    """Delivered 1-6; claimed 1,2,3,4,6 (10,30,60,120,5 min → median 30); verdicts 1-4, accepted
    1,2,4; meetings 1,2; won 1 and 7 (7 was delivered in February) → USD 1500."""
    async with make_session_factory(seeded)() as session:
        n = await Reports(session).span_numbers(TEAM, *MARCH)
    assert (n.delivered, n.claimed, n.verdicts, n.accepted) == (6, 5, 4, 3)
    assert (n.meetings, n.won) == (2, 2)
    assert n.revenue == 1500 and n.revenue_by_currency == {"USD": 1500}
    assert n.acceptance_rate == 0.75
    assert n.median_claim_seconds == pytest.approx(30 * 60, abs=1)


async def test_quarter_median_with_even_and_odd_counts(seeded: AsyncEngine) -> None:
    """Q1 claims: 5,10,15,20,30,60,120 min → 20; without lead 6 (5 min, 03-14): 10..120 → (20+30)/2."""
    async with make_session_factory(seeded)() as session:
        assert await Reports(session).median_claim_seconds(TEAM, *Q1) == pytest.approx(20 * 60, abs=1)
        before_6 = datetime(2026, 3, 14, tzinfo=UTC)
        assert await Reports(session).median_claim_seconds(TEAM, Q1[0], before_6) == pytest.approx(
            25 * 60, abs=1
        )
        assert await Reports(session).median_claim_seconds(TEAM, NOW, NOW) is None


async def test_scopes(seeded: AsyncEngine) -> None:
    """Enterprise in March: leads 1 and 4, both accepted."""
    async with make_session_factory(seeded)() as session:
        n = await Reports(session).span_numbers(TEAM, *MARCH, Scope.parse("enterprise"))
        assert (n.delivered, n.accepted, n.won) == (2, 2, 1)
        none = await Reports(session).span_numbers(TEAM, *MARCH, Scope.parse("channel:C0NONE"))
        assert none.delivered == 0 and none.median_claim_seconds is None


async def test_lead_quality_30_and_90_days(seeded: AsyncEngine) -> None:
    """30 days back from 03-16 12:00 → from 02-14 12:00: leads 1-8.
    webinar: 1,2,7 → 3 delivered, 3 verdicts, 3 accepted, ratings 5,4,4, won 1 and 7 → win 100%.
    ads: 3,4,5,8 → 4 delivered, 3 verdicts, 1 accepted, ratings 2,3,1 → 2.0, reasons not_icp, no_budget.
    90 days → from 2025-12-16: the same (lead 9 is 2025-12-10)."""
    async with make_session_factory(seeded)() as session:
        report = await Reports(session).lead_quality(TEAM, NOW, (30, 90))
    for days in (30, 90):
        rows = {r.source: r for r in report.by_source[days]}
        assert set(rows) == {"webinar", "ads", "referral"}
        web, ads = rows["webinar"], rows["ads"]
        assert (web.delivered, web.verdicts, web.accepted, web.won, web.closed) == (3, 3, 3, 2, 2)
        assert web.average_rating == pytest.approx(13 / 3)
        assert web.win_rate == 1.0
        assert (ads.delivered, ads.verdicts, ads.accepted) == (4, 3, 1)
        assert ads.average_rating == pytest.approx(2.0)
        assert dict(ads.top_reasons()) == {"not_icp": 1, "no_budget": 1}
        assert ads.win_rate is None
        assert report.totals[days].delivered == 8
    campaigns = {(r.source, r.campaign): r.delivered for r in report.by_campaign[30]}
    assert campaigns == {("webinar", "spring"): 2, ("webinar", "winter"): 1, ("ads", "brand"): 3}


async def test_sla_breaches_by_week(seeded: AsyncEngine) -> None:
    week = Window.last(7, NOW)
    async with make_session_factory(seeded)() as session:
        assert await Reports(session).sla_breaches(TEAM, week.start, week.end) == {
            "sla_reminder": 1,
            "sla_verdict_nudge": 1,
        }
        before = week.before()
        assert await Reports(session).sla_breaches(TEAM, before.start, before.end) == {"sla_reminder": 1}


async def test_scoreboard_matches_hand_count(seeded: AsyncEngine) -> None:
    """Targets: month leads_delivered 12 (6 of 12, on track at half-time), acceptance 60% (75% → on
    track), median time to claim 20 min (30 → behind), revenue 2000 (1500; expected 1000 → ahead),
    enterprise leads 2 (reached early → ahead); quarter deals_won 10 (2 vs 8.3 expected → behind);
    manual demo_calls 40 reported 15 (expected 20 → behind)."""
    from bot.services.targets import build_scoreboard
    from bot.storage.targets import MetricReportRepo, TargetRepo

    utc = ZoneInfo("UTC")
    factory = make_session_factory(seeded)
    async with factory() as session, session.begin():
        repo = TargetRepo(session)
        for metric, kind, start, segment, value in (
            ("leads_delivered", "month", date(2026, 3, 1), "", 12),
            ("acceptance_rate", "month", date(2026, 3, 1), "", 0.6),
            ("median_time_to_claim", "month", date(2026, 3, 1), "", 1200),
            ("revenue_won", "month", date(2026, 3, 1), "", 2000),
            ("leads_delivered", "month", date(2026, 3, 1), "enterprise", 2),
            ("deals_won", "quarter", date(2026, 1, 1), "", 10),
            ("demo_calls", "month", date(2026, 3, 1), "", 40),
            ("leads_delivered", "month", date(2026, 2, 1), "", 99),  # last month: not shown
        ):
            await repo.upsert(
                team_id=TEAM,
                metric=metric,
                period_kind=kind,
                period_start=start,
                segment=segment,
                value=value,
                by="U0ADMIN",
                at=NOW,
            )
        reports = MetricReportRepo(session)
        await reports.add(
            team_id=TEAM,
            metric="demo_calls",
            segment="",
            value=12,
            by="U0REP1",
            at=datetime(2026, 3, 10, tzinfo=UTC),
        )
        await reports.add(
            team_id=TEAM,
            metric="demo_calls",
            segment="",
            value=15,
            by="U0REP2",
            at=datetime(2026, 3, 12, tzinfo=UTC),
        )
        await reports.add(
            team_id=TEAM,
            metric="demo_calls",
            segment="",
            value=99,
            by="U0REP2",
            at=datetime(2026, 2, 12, tzinfo=UTC),
        )
    async with UnitOfWork(factory) as uow:
        board = await build_scoreboard(uow, TEAM, NOW, utc)
    got = {(line.metric.key, line.scope, line.period.kind.value): line for line in board.lines}
    assert len(got) == 7
    delivered = got[("leads_delivered", "", "month")]
    assert (delivered.value, delivered.percent, delivered.pace) == (6, 50, Pace.ON_TRACK)
    assert delivered.elapsed == pytest.approx(0.5)
    assert got[("acceptance_rate", "", "month")].pace is Pace.ON_TRACK
    ttc = got[("median_time_to_claim", "", "month")]
    assert ttc.value == pytest.approx(1800, abs=1) and ttc.pace is Pace.BEHIND
    assert ttc.percent == pytest.approx(200 / 3)
    revenue = got[("revenue_won", "", "month")]
    assert (revenue.value, revenue.percent, revenue.pace, revenue.currency) == (1500, 75, Pace.AHEAD, "USD")
    assert got[("leads_delivered", "enterprise", "month")].pace is Pace.AHEAD
    won = got[("deals_won", "", "quarter")]
    assert won.value == 2 and won.pace is Pace.BEHIND
    assert won.elapsed == pytest.approx(74.5 / 90)
    demo = got[("demo_calls", "", "month")]
    assert (demo.value, demo.reported_by, demo.pace) == (15, "U0REP2", Pace.BEHIND)
    f = board.funnel
    assert (f.delivered, f.accepted, f.meetings, f.won) == (6, 3, 2, 2)


async def test_lead_quality_follows_edits_and_missing_source(engine: AsyncEngine) -> None:
    """Leads without a source or campaign group under '(no source)'; a verdict given after the
    lead was stored (an UPDATE, not an INSERT) moves it to its reason's group at once; a lead at
    the 30-day edge counts in both windows, one a second older only in the 90-day one."""
    from datetime import timedelta

    from sqlalchemy import select

    from bot.storage.models import Lead
    from bot.storage.reports import NO_SOURCE
    from tests.metrics_fixture import lead_row

    factory = make_session_factory(engine)
    edge = NOW - timedelta(days=30)
    async with factory() as session, session.begin():
        session.add(lead_row(TEAM, 1, "03-10 09:00", "claimed"))  # no source, no campaign
        session.add(lead_row(TEAM, 2, "03-11 09:00", "new", source="ads ✓ · Q1", campaign="brand"))
        older = lead_row(TEAM, 3, "03-01 09:00", "new", source="ads ✓ · Q1", campaign="brand")
        older.created_at = edge - timedelta(seconds=1)
        at_edge = lead_row(TEAM, 4, "03-01 09:00", "new", source="ads ✓ · Q1")
        at_edge.created_at = edge
        session.add_all([older, at_edge])
    async with factory() as session:
        before = await Reports(session).lead_quality(TEAM, NOW, (30, 90))
    assert {r.source: r.delivered for r in before.by_source[30]} == {"ads ✓ · Q1": 2, NO_SOURCE: 1}
    assert {r.source: r.delivered for r in before.by_source[90]} == {"ads ✓ · Q1": 3, NO_SOURCE: 1}
    assert {(r.source, r.campaign): r.delivered for r in before.by_campaign[90]} == {
        ("ads ✓ · Q1", "brand"): 2
    }

    async with factory() as session, session.begin():
        lead = await session.scalar(
            select(Lead).where(Lead.team_id == TEAM, Lead.email == "lead2@example.com")
        )
        assert lead is not None
        lead.status, lead.verdict_at, lead.rejected_at = "rejected", NOW, NOW
        lead.reject_reason, lead.quality = "not_icp", 2
    async with factory() as session:
        after = await Reports(session).lead_quality(TEAM, NOW, (30, 90))
    ads = {r.source: r for r in after.by_source[30]}["ads ✓ · Q1"]
    assert (ads.delivered, ads.verdicts, ads.accepted, ads.ratings) == (2, 1, 0, 1)
    assert ads.top_reasons() == [("not_icp", 1)]
    assert after.totals[30].delivered == 3 and after.totals[90].delivered == 4
