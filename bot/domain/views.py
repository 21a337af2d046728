"""What the Block Kit builders render, as plain data: the services build it, bot.slack.blocks
turns it into messages and views, and neither imports the other for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.numbers import QualityReport, SourceVerdicts, SpanNumbers
from bot.domain.periods import Period, Window
from bot.domain.sla import SlaClock
from bot.domain.speed import SpeedToLead
from bot.domain.targets import Metric, Pace

MANUAL_CHOICE = "manual"  # the target form's "another metric, reported by hand" option


@dataclass(frozen=True)
class TargetLine:
    """One target against what actually happened so far in its period."""

    metric: Metric
    period: Period
    scope: str  # '' | 'channel:C…' | segment
    target: float
    value: float | None
    percent: float | None
    pace: Pace
    elapsed: float
    currency: str | None = None
    reported_by: str | None = None

    @property
    def expected_now(self) -> float:
        """Where a cumulative metric should be by now if it is to reach the target."""
        return self.target * self.elapsed if self.metric.cumulative else self.target


@dataclass
class Scoreboard:
    now: datetime
    month: Period
    quarter: Period
    lines: list[TargetLine]
    funnel: SpanNumbers
    funnel_period: Period
    speed: SpeedToLead | None = None  # the last 7 days


@dataclass(frozen=True)
class OpenLead:
    """A lead its owner is working: the next action and the SLA clock, as `/lead mine` and App
    Home show them. `lead` is the stored lead (bot.storage.models.Lead)."""

    lead: Any
    next_action: str | None
    clock: SlaClock | None


@dataclass
class HomeData:
    user_id: str
    now: datetime
    show_rep: bool
    show_marketing: bool
    scoreboard: Scoreboard
    open_leads: list[OpenLead]  # next action and SLA clock, exactly as `/lead mine` has them
    open_total: int
    page: int
    page_size: int
    quality: QualityReport | None
    reasons: dict[str, str] = field(default_factory=dict)  # the workspace's reject-reason labels
    is_admin: bool = False  # the Home starts with the way to Settings
    retention: Any = None  # bot.domain.retention.RetentionNumbers (after the close, issue 19)
    customers: list[Any] = field(default_factory=list)  # accounts: the rep's own, or all for marketing

    @property
    def pages(self) -> int:
        return max(1, -(-self.open_total // self.page_size))


@dataclass
class Digest:
    now: datetime
    week: Window
    scoreboard: Scoreboard
    this_week: SpanNumbers
    last_week: SpanNumbers
    best: SourceVerdicts | None
    worst: SourceVerdicts | None
    breaches: dict[str, int]
    breaches_before: dict[str, int]
    extra: list[tuple[str, str]] = field(default_factory=list)
