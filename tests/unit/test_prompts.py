"""bot/domain/prompts.py: question choice, fact detection and ranking, schedules and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.prompts import (
    BankQuestion,
    GroupStat,
    TargetPace,
    Thresholds,
    WeekAggregates,
    choose_question,
    detect_facts,
    due_fire_time,
    is_holiday,
    parse_holidays,
    schedule_trigger,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


# ------------------------------------------------------------------ choose_question


def test_never_asked_questions_come_first_in_bank_order() -> None:
    qs = [BankQuestion(3, "c", T0), BankQuestion(1, "a"), BankQuestion(2, "b")]
    assert choose_question(qs).id == 1


def test_least_recently_asked_wins() -> None:
    qs = [
        BankQuestion(1, "a", T0 - timedelta(days=1)),
        BankQuestion(2, "b", T0 - timedelta(days=30)),
        BankQuestion(3, "c", T0 - timedelta(days=7)),
    ]
    assert choose_question(qs).id == 2


def test_never_the_same_question_twice_in_a_row() -> None:
    # question 2 is the least recently asked by its timestamp, but it was the last one asked
    qs = [BankQuestion(1, "a", T0 - timedelta(days=1)), BankQuestion(2, "b", T0 - timedelta(days=9))]
    assert choose_question(qs, last_id=2).id == 1


def test_a_single_question_is_asked_again_and_an_empty_bank_gives_none() -> None:
    assert choose_question([BankQuestion(5, "only", T0)], last_id=5).id == 5
    assert choose_question([]) is None


def test_rotation_walks_the_whole_bank_before_repeating() -> None:
    bank = {i: BankQuestion(i, str(i)) for i in range(1, 6)}
    asked, last = [], None
    for week in range(10):
        q = choose_question(list(bank.values()), last_id=last)
        asked.append(q.id)
        bank[q.id] = BankQuestion(q.id, q.text, T0 + timedelta(weeks=week), q.times_asked + 1)
        last = q.id
    assert asked == [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]


# ------------------------------------------------------------------ detect_facts


def webinar(accepted: int = 5, rejected: int = 9, reasons: dict[str, int] | None = None) -> GroupStat:
    return GroupStat("source", "webinar", accepted, rejected, reasons or {"not_icp": 9})


def test_low_acceptance_source_with_a_dominant_reason_is_stated_with_it() -> None:
    [fact] = detect_facts(WeekAggregates(groups=[webinar()]), Thresholds(reason_min=100))
    assert fact.kind == "low_acceptance"
    assert fact.sentence == "Webinar leads: 9 of 14 rejected as 'Not our ICP' this week"
    assert "Sales" in fact.question and "Marketing" in fact.question
    assert fact.key == "source:webinar"


def test_low_acceptance_without_a_dominant_reason_counts_rejections() -> None:
    group = GroupStat("campaign", "Spring launch", 2, 6, {"not_icp": 2, "no_budget": 2, "bad_data": 2})
    [fact] = detect_facts(WeekAggregates(groups=[group]))
    assert fact.sentence == "Campaign 'Spring launch': 6 of 8 rejected this week"


def test_small_samples_and_healthy_sources_are_not_facts() -> None:
    small = GroupStat("source", "event", 0, 4, {"not_icp": 4})
    healthy = GroupStat("source", "referral", 8, 2, {"not_icp": 2})
    assert detect_facts(WeekAggregates(groups=[small, healthy])) == []
    # the same small source is notable once the minimum sample is lowered
    assert detect_facts(WeekAggregates(groups=[small]), Thresholds(min_sample=3, reason_min=100))


def test_acceptance_threshold_is_configurable() -> None:
    group = GroupStat("source", "ads", 6, 4, {"bad_data": 4})
    assert detect_facts(WeekAggregates(groups=[group])) == []
    [fact] = detect_facts(WeekAggregates(groups=[group]), Thresholds(min_acceptance=0.7, reason_min=100))
    assert fact.sentence.startswith("Ads leads: 4 of 10 rejected as 'Bad data'")


def test_reason_dominating_the_week() -> None:
    agg = WeekAggregates(rejection_reasons={"no_budget": 6, "not_icp": 2, "other": 1})
    [fact] = detect_facts(agg)
    assert fact.kind == "reason_dominates"
    assert fact.sentence == "6 of 9 rejections this week were 'No budget or authority'"
    assert detect_facts(agg, Thresholds(reason_share=0.7)) == []


def test_custom_reason_labels_are_used() -> None:
    agg = WeekAggregates(rejection_reasons={"too_small": 5})
    [fact] = detect_facts(agg, labels={"too_small": "Company too small"})
    assert "'Company too small'" in fact.sentence


def test_sla_breaches_rising() -> None:
    [fact] = detect_facts(WeekAggregates(sla_breaches=6, sla_breaches_previous=2))
    assert fact.kind == "sla_rising"
    assert fact.sentence == "Follow-up deadlines were missed 6 times this week, up from 2 the week before"
    assert detect_facts(WeekAggregates(sla_breaches=6, sla_breaches_previous=6)) == []
    assert detect_facts(WeekAggregates(sla_breaches=2, sla_breaches_previous=0)) == []  # too few
    [fresh] = detect_facts(WeekAggregates(sla_breaches=3, sla_breaches_previous=0))
    assert "none the week before" in fresh.sentence


def test_target_behind_pace() -> None:
    behind = TargetPace("accepted", "Leads accepted", "March", target=100, actual=20, elapsed=0.5)
    on_track = TargetPace("won", "Deals won", "March", target=10, actual=5, elapsed=0.5)
    too_early = TargetPace("meetings", "Meetings booked", "March", target=40, actual=0, elapsed=0.1)
    [fact] = detect_facts(WeekAggregates(targets=[behind, on_track, too_early]))
    assert fact.kind == "target_behind"
    assert fact.sentence == "Leads accepted: 20 of 100 for March with 50% of it gone — behind pace"
    assert "March" in fact.question


def test_facts_are_ranked_worst_first_and_recent_ones_skipped() -> None:
    mild = GroupStat("source", "ads", 4, 6, {"bad_data": 2, "other": 4})  # 40% accepted
    bad = GroupStat("source", "webinar", 1, 13, {"not_icp": 13})  # 7% accepted
    agg = WeekAggregates(groups=[mild, bad], sla_breaches=4, sla_breaches_previous=3)
    facts = detect_facts(agg, Thresholds(reason_min=100))
    assert [f.key for f in facts] == ["source:webinar", "source:ads"]
    skipped = detect_facts(agg, Thresholds(reason_min=100), skip_keys=["source:webinar"])
    assert [f.key for f in skipped] == ["source:ads"]


def test_a_source_stating_the_reason_makes_the_team_wide_reason_fact_redundant() -> None:
    agg = WeekAggregates(groups=[webinar()], rejection_reasons={"not_icp": 9, "bad_data": 1})
    [fact] = detect_facts(agg)
    assert fact.sentence == "Webinar leads: 9 of 14 rejected as 'Not our ICP' this week"
    # spread over many small sources, the reason itself is the news
    spread = WeekAggregates(
        groups=[GroupStat("source", f"s{i}", 3, 1, {"not_icp": 1}) for i in range(6)],
        rejection_reasons={"not_icp": 6},
    )
    [fact] = detect_facts(spread)
    assert fact.sentence == "6 of 6 rejections this week were 'Not our ICP'"


def test_a_quiet_week_has_no_facts() -> None:
    assert detect_facts(WeekAggregates()) == []


def test_thresholds_from_workspace_overrides_ignore_junk() -> None:
    t = Thresholds.from_mapping({"min_acceptance": "0.3", "min_sample": 10, "nonsense": 1, "sla_min": "x"})
    assert t.min_acceptance == 0.3 and t.min_sample == 10 and t.sla_min == Thresholds().sla_min


def test_fact_json_round_trips_the_sentence() -> None:
    [fact] = detect_facts(WeekAggregates(groups=[webinar()]), Thresholds(reason_min=100))
    data = fact.to_json()
    assert data["sentence"] == fact.sentence and data["data"]["top_reason"] == "not_icp"


# ------------------------------------------------------------------ schedules and holidays


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("mon 10:00", datetime(2026, 3, 2, 10, 0, tzinfo=UTC)),
        ("MON,THU 09:30", datetime(2026, 3, 2, 9, 30, tzinfo=UTC)),
        ("weekdays 9:00", datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
        ("daily 07:15", datetime(2026, 3, 2, 7, 15, tzinfo=UTC)),
        ("0 8 * * mon", datetime(2026, 3, 2, 8, 0, tzinfo=UTC)),
    ],
)
def test_schedule_specs(spec: str, expected: datetime) -> None:
    trigger = schedule_trigger(spec, ZoneInfo("UTC"))
    assert (
        due_fire_time(trigger, datetime(2026, 3, 2, 10, 30, tzinfo=UTC), grace=timedelta(hours=6)) == expected
    )


@pytest.mark.parametrize("spec", ["", "monday", "mon 25:00", "funday 10:00", "1 2 3"])
def test_bad_schedules_say_how_to_write_one(spec: str) -> None:
    with pytest.raises(ValueError, match="mon 10:00"):
        schedule_trigger(spec, ZoneInfo("UTC"))


def test_due_fire_time_respects_the_grace_window_and_time_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    trigger = schedule_trigger("mon 10:00", berlin)  # 09:00 UTC in winter
    monday_utc = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    grace = timedelta(hours=3)
    assert due_fire_time(trigger, monday_utc - timedelta(minutes=1), grace=grace) is None
    assert due_fire_time(trigger, monday_utc, grace=grace) == monday_utc
    assert due_fire_time(trigger, monday_utc + timedelta(hours=2), grace=grace) == monday_utc
    assert due_fire_time(trigger, monday_utc + timedelta(hours=4), grace=grace) is None


def test_holidays_are_dates_in_the_workspace_time_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    late_utc = datetime(2026, 12, 24, 20, 0, tzinfo=UTC)  # already the 25th in Tokyo
    assert is_holiday(late_utc, [date(2026, 12, 25)], tokyo)
    assert not is_holiday(late_utc, [date(2026, 12, 25)], ZoneInfo("UTC"))
    assert parse_holidays(["2026-12-25", "junk", date(2027, 1, 1)]) == [date(2026, 12, 25), date(2027, 1, 1)]
