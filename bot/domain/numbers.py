"""The numbers reports hand up: plain data, computed by bot.storage.reports and read by the
services and the Block Kit builders alike."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SpanNumbers:
    """What happened in [start, end): each count is of leads whose step happened in the span."""

    delivered: int = 0
    claimed: int = 0
    verdicts: int = 0
    accepted: int = 0
    meetings: int = 0
    won: int = 0
    revenue: float = 0.0
    revenue_by_currency: dict[str, float] = field(default_factory=dict)
    median_claim_seconds: float | None = None

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.verdicts if self.verdicts else None

    @property
    def main_currency(self) -> str | None:
        if not self.revenue_by_currency:
            return None
        return max(self.revenue_by_currency.items(), key=lambda kv: kv[1])[0]


@dataclass
class QualityRow:
    """A source (or source + campaign) over a rolling window: what became of its leads."""

    source: str
    campaign: str | None
    delivered: int = 0
    verdicts: int = 0
    accepted: int = 0
    won: int = 0
    closed: int = 0  # won or lost
    rating_sum: float = 0.0
    ratings: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.verdicts if self.verdicts else None

    @property
    def average_rating(self) -> float | None:
        return self.rating_sum / self.ratings if self.ratings else None

    @property
    def win_rate(self) -> float | None:
        return self.won / self.closed if self.closed else None

    def top_reasons(self, n: int = 3) -> list[tuple[str, int]]:
        return sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:n]

    def add(self, other: QualityRow) -> None:
        self.delivered += other.delivered
        self.verdicts += other.verdicts
        self.accepted += other.accepted
        self.won += other.won
        self.closed += other.closed
        self.rating_sum += other.rating_sum
        self.ratings += other.ratings
        for reason, n in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + n


@dataclass
class QualityReport:
    """Lead quality by source and by campaign for several rolling windows (e.g. 30 and 90 days)."""

    by_source: dict[int, list[QualityRow]]
    by_campaign: dict[int, list[QualityRow]]
    totals: dict[int, QualityRow]


@dataclass(frozen=True)
class SourceVerdicts:
    source: str
    verdicts: int
    accepted: int

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.verdicts if self.verdicts else 0.0
