"""The retention section of Home, the digest and /targets: signals acted on within a day,
referrals, insights shared per team, over a window."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.insights import top_tags
from bot.domain.periods import Window
from bot.domain.retention import RetentionNumbers, SignalOutcome, acted_within, retention_lines
from bot.storage.uow import UnitOfWork


async def numbers(uow: UnitOfWork, team_id: str, window: Window) -> RetentionNumbers:
    days = max(1, round((window.end - window.start) / timedelta(days=1)))
    signals = await uow.retention.signals_since(team_id, window.start, window.end)
    total, acted, answered = acted_within(
        SignalOutcome(s.created_at, s.outcome, s.outcome_at) for s in signals
    )
    made, won, closed = await uow.retention.referral_stats(team_id, window.start, window.end)
    insights = await uow.retention.insights_since(team_id, window.start, window.end)
    sides: dict[str, int] = {}
    for insight in insights:
        side = insight.side or "other"
        sides[side] = sides.get(side, 0) + 1
    return RetentionNumbers(
        days=days,
        signals=total,
        acted_within_day=acted,
        answered=answered,
        referrals=made,
        referrals_won=won,
        referrals_closed=closed,
        insights_by_side=sides,
        top_tags=top_tags(i.tags or [] for i in insights),
    )


async def last_week(uow: UnitOfWork, team_id: str, now: datetime) -> RetentionNumbers:
    return await numbers(uow, team_id, Window.last(7, now))


async def digest_section(uow: UnitOfWork, team_id: str, week: Window) -> str | None:
    """The weekly digest's section (nothing when the week had none of it)."""
    found = await numbers(uow, team_id, week)
    if found.empty:
        return None
    return "\n".join(retention_lines(found))
