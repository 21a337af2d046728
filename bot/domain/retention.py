"""After the close, as numbers: what Home, the digest and /targets show of retention work."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

ACT_WITHIN = timedelta(days=1)


@dataclass(frozen=True)
class SignalOutcome:
    created_at: datetime
    outcome: str | None
    outcome_at: datetime | None


@dataclass
class RetentionNumbers:
    days: int
    signals: int = 0
    acted_within_day: int = 0  # reached out within a day of the signal
    answered: int = 0
    referrals: int = 0
    referrals_won: int = 0
    referrals_closed: int = 0
    insights_by_side: dict[str, int] = field(default_factory=dict)  # sales | marketing | other
    top_tags: list[tuple[str, int]] = field(default_factory=list)

    @property
    def insights(self) -> int:
        return sum(self.insights_by_side.values())

    @property
    def referral_win_rate(self) -> float | None:
        return self.referrals_won / self.referrals_closed if self.referrals_closed else None

    @property
    def empty(self) -> bool:
        return not (self.signals or self.referrals or self.insights)


def acted_within(outcomes: Iterable[SignalOutcome], within: timedelta = ACT_WITHIN) -> tuple[int, int, int]:
    """(signals, reached out within `within`, answered at all)."""
    total = acted = answered = 0
    for o in outcomes:
        total += 1
        if o.outcome is not None:
            answered += 1
        if o.outcome == "reach_out" and o.outcome_at is not None and o.outcome_at - o.created_at <= within:
            acted += 1
    return total, acted, answered


def retention_lines(n: RetentionNumbers) -> list[str]:
    """Plain sentences (tags are [a-z0-9_-] only; nothing here needs escaping)."""
    lines = [
        f"Customer signals: {n.acted_within_day} of {n.signals} acted on within a day"
        + (f" ({n.answered} answered)" if n.signals else ""),
    ]
    rate = n.referral_win_rate
    lines.append(
        f"Referrals: {n.referrals}"
        + (
            f" · win rate {rate * 100:.0f}% ({n.referrals_won} of {n.referrals_closed} closed)"
            if rate is not None
            else ""
        )
    )
    sides = ", ".join(f"{side} {count}" for side, count in sorted(n.insights_by_side.items())) or "none"
    lines.append(f"Field insights shared: {n.insights} ({sides})")
    if n.top_tags:
        lines.append("Top tags: " + ", ".join(f"#{tag} ({count})" for tag, count in n.top_tags))
    return lines
