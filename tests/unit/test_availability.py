"""Availability as pure logic (bot/domain/availability.py): away, an out-of-office Slack status
(configurable, expiring), working hours in the rep's own time zone, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.domain.availability import OooPolicy, RepInfo, unavailable
from bot.domain.sla import BusinessCalendar

POLICY = OooPolicy()
CALENDAR = BusinessCalendar(tz=ZoneInfo("UTC"), holidays=frozenset({date(2026, 12, 25)}))
# Tuesday 1 December 2026, 15:00 UTC: 16:00 in Berlin, 10:00 in New York, 00:00 in Tokyo
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def why(info: RepInfo, now: datetime = NOW, *, hours: bool = True, policy: OooPolicy = POLICY) -> str | None:
    return unavailable(info, now, policy=policy, calendar=CALENDAR if hours else None)


def test_away_and_unknown_people() -> None:
    assert why(RepInfo("U1", away=True)) == "away"
    assert unavailable(None, NOW, policy=POLICY, calendar=CALENDAR) is None


def test_working_hours_are_the_reps_own() -> None:
    assert why(RepInfo("U1", tz="Europe/Berlin")) is None
    assert why(RepInfo("U1", tz="America/New_York")) is None
    tokyo = why(RepInfo("U1", tz="Asia/Tokyo"))
    assert tokyo is not None and tokyo.startswith("outside working hours") and "Asia/Tokyo" in tokyo
    assert why(RepInfo("U1", tz="Asia/Tokyo"), hours=False) is None  # the rule does not ask
    assert why(RepInfo("U1", tz="Not/AZone")) is None  # an unknown zone: the workspace's
    saturday = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert "outside working hours" in (why(RepInfo("U1", tz="Europe/Berlin"), saturday) or "")


def test_holidays_in_the_reps_own_date() -> None:
    christmas_noon = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)
    assert why(RepInfo("U1"), christmas_noon) == "on holiday (2026-12-25)"
    # 23:30 UTC on the 24th is already the 25th in Berlin
    assert (
        why(RepInfo("U1", tz="Europe/Berlin"), datetime(2026, 12, 24, 23, 30, tzinfo=UTC)) or ""
    ).startswith("on holiday")


def test_out_of_office_status_by_emoji_or_words_until_it_expires() -> None:
    assert "out of office" in (
        why(RepInfo("U1", status_emoji=":palm_tree:", status_text="Vacationing")) or ""
    )
    assert "out of office" in (why(RepInfo("U1", status_text="OOO until Monday")) or "")
    assert why(RepInfo("U1", status_text="In a meeting", status_emoji=":spiral_calendar_pad:")) is None
    assert why(RepInfo("U1", status_text="Foooood")) is None  # whole words only
    expired = int(NOW.timestamp()) - 60
    assert why(RepInfo("U1", status_emoji=":palm_tree:", status_expiration=expired)) is None
    later = int(NOW.timestamp()) + 3600
    assert why(RepInfo("U1", status_emoji=":palm_tree:", status_expiration=later)) is not None
    custom = OooPolicy(emoji=(":beach:",), text=("parental leave",))
    assert why(RepInfo("U1", status_text="On parental leave"), policy=custom) is not None
    assert why(RepInfo("U1", status_emoji=":palm_tree:"), policy=custom) is None


def test_time_off_set_ahead_in_the_reps_own_dates() -> None:
    import pytest

    from bot.domain.availability import parse_time_off

    today = date(2026, 12, 1)
    assert parse_time_off("2026-12-24..2026-12-31", today) == (date(2026, 12, 24), date(2026, 12, 31))
    assert parse_time_off("until 2026-12-03", today) == (today, date(2026, 12, 3))
    assert parse_time_off("2026-12-24", today) == (date(2026, 12, 24),) * 2
    for bad, says in (
        ("next week", "write the days off"),
        ("2026-12-31..2026-12-24", "before the first"),
        ("2026-11-01..2026-11-02", "over"),
        ("2026-12-01..2028-01-01", "at most a year"),
    ):
        with pytest.raises(ValueError, match=says):
            parse_time_off(bad, today)
    off = RepInfo("U1", tz="Asia/Tokyo", away_from=date(2026, 12, 2), away_until=date(2026, 12, 3))
    assert why(off, hours=False) == "time off (until 2026-12-03)"  # 00:00 on the 2nd in Tokyo
    assert (
        why(RepInfo("U1", tz="America/New_York", away_from=date(2026, 12, 2), away_until=date(2026, 12, 3)))
        is None
    )
    assert why(RepInfo("U1", away_from=date(2026, 11, 1), away_until=date(2026, 11, 30))) is None  # over
