"""Which channels go the bulk way: a big call by itself, or one-lead calls adding up in the window."""

from __future__ import annotations

from bot.domain.bursts import bulk_channels, burst_channels


def test_a_call_with_more_than_the_threshold_for_a_channel_is_bulk() -> None:
    assert bulk_channels({"C1": 11, "C2": 10}, threshold=10) == {"C1"}


def test_leads_of_the_window_add_up_to_a_burst() -> None:
    # the 11th lead in the window is the first past the threshold; the 10th still gets its card
    assert burst_channels({"C1": 1}, {"C1": 10}, threshold=10) == {"C1"}
    assert burst_channels({"C1": 1}, {"C1": 9}, threshold=10) == frozenset()
    # a quiet channel beside a busy one stays single; a channel without new leads is not asked
    assert burst_channels({"C1": 1, "C2": 1}, {"C1": 40}, threshold=10) == {"C1"}
    assert burst_channels({"C1": 0}, {"C1": 40}, threshold=10) == frozenset()
    assert burst_channels({"C1": 3}, {"C1": 8}, threshold=10) == {"C1"}
