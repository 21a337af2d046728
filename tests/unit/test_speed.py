"""Speed to lead as pure logic: percentiles, and the share claimed within 5 working minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.sla import BusinessCalendar
from bot.domain.speed import SpeedRow, percentile, speed_to_lead

MON_10 = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
CAL = BusinessCalendar.from_text(timezone="UTC", hours="09:00-17:00", days="mon-fri", holidays=())


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([0.0, 10.0], 0.9) == 9.0


def test_waits_from_arrival_to_visible_to_claimed_to_contacted() -> None:
    rows = [
        SpeedRow(
            MON_10, MON_10 + timedelta(minutes=2), MON_10 + timedelta(minutes=4), MON_10 + timedelta(hours=1)
        ),
        SpeedRow(MON_10, MON_10 + timedelta(minutes=2), MON_10 + timedelta(minutes=12), None),
        SpeedRow(MON_10, None, None, None),  # not visible yet: no clock, not judged
    ]
    speed = speed_to_lead(rows, now=MON_10 + timedelta(minutes=30), calendar=CAL)
    assert speed.leads == 3
    assert (speed.to_visible.p50, speed.to_visible.count) == (120.0, 2)
    assert speed.to_claim.p50 == 360.0 and speed.to_claim.p90 == 2 * 60 + 0.9 * 480
    assert speed.to_contact.p50 == 56 * 60.0
    assert speed.claimed_within == 0.5 and speed.working


def test_working_minutes_decide_what_was_fast_and_a_fresh_lead_is_not_judged_yet() -> None:
    friday_1658 = datetime(2026, 3, 6, 16, 58, tzinfo=UTC)
    monday_0902 = datetime(2026, 3, 9, 9, 2, tzinfo=UTC)
    rows = [
        SpeedRow(friday_1658, friday_1658, monday_0902, None),  # 4 working minutes
        SpeedRow(monday_0902, monday_0902, None, None),  # visible 3 min ago, unclaimed: not yet judged
    ]
    now = monday_0902 + timedelta(minutes=3)
    assert speed_to_lead(rows, now=now, calendar=CAL).claimed_within == 1.0
    assert speed_to_lead(rows, now=now).claimed_within == 0.0  # wall time: 64 hours
