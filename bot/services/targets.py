"""Shared targets: set them, report manual values, and build the scoreboard from what happened."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import InvalidInput
from bot.domain.numbers import SpanNumbers
from bot.domain.periods import Period, PeriodKind, period_containing, period_starting
from bot.domain.sla import BusinessCalendar
from bot.domain.speed import SpeedTally, SpeedToLead
from bot.domain.targets import (
    ACCEPTANCE_RATE,
    DEALS_WON,
    LEADS_ACCEPTED,
    LEADS_DELIVERED,
    MEDIAN_TIME_TO_CLAIM,
    MEETINGS_BOOKED,
    REFERRAL_WIN_RATE,
    REFERRALS,
    REVENUE_WON,
    SPEED_TO_LEAD,
    Metric,
    PeriodRef,
    metric_for,
    pace,
    parse_report_args,
    parse_scope,
    parse_set_args,
    parse_value,
    percent_of_target,
    resolve_metric,
    resolve_period,
)
from bot.domain.views import MANUAL_CHOICE, Scoreboard, TargetLine
from bot.domain.webhooks import EventType
from bot.services import webhooks
from bot.services.context import Ctx
from bot.storage.models import Target
from bot.storage.reports import Scope
from bot.storage.uow import UnitOfWork

# what each computed metric needs from span_numbers
NEEDS: dict[str, frozenset[str]] = {
    LEADS_DELIVERED: frozenset({"delivered"}),
    LEADS_ACCEPTED: frozenset({"accepted"}),
    ACCEPTANCE_RATE: frozenset({"accepted", "verdicts"}),
    MEDIAN_TIME_TO_CLAIM: frozenset({"median"}),
    MEETINGS_BOOKED: frozenset({"meetings"}),
    DEALS_WON: frozenset({"won"}),
    REVENUE_WON: frozenset({"revenue"}),
    SPEED_TO_LEAD: frozenset(),  # from the span's leads (speed_rows), not from span_numbers
    # after the close: counted from referral rows, not the lead spans (bot/services/referrals.py)
    REFERRALS: frozenset(),
    REFERRAL_WIN_RATE: frozenset(),
}

SPEED_WINDOW = timedelta(days=7)  # the scoreboard's speed to lead: the last 7 days


def value_of(metric: Metric, numbers: SpanNumbers) -> float | None:
    """A computed metric's value from the period's numbers."""
    key = metric.key
    if key == LEADS_DELIVERED:
        return float(numbers.delivered)
    if key == LEADS_ACCEPTED:
        return float(numbers.accepted)
    if key == ACCEPTANCE_RATE:
        return numbers.acceptance_rate
    if key == MEDIAN_TIME_TO_CLAIM:
        return numbers.median_claim_seconds
    if key == MEETINGS_BOOKED:
        return float(numbers.meetings)
    if key == DEALS_WON:
        return float(numbers.won)
    if key == REVENUE_WON:
        return numbers.revenue
    raise KeyError(key)


async def evaluate_targets(
    uow: UnitOfWork,
    team_id: str,
    targets: list[Target],
    now: datetime,
    tz: ZoneInfo,
    cache: dict[tuple[PeriodKind, date, str], SpanNumbers] | None = None,
    calendar: BusinessCalendar | None = None,
) -> list[TargetLine]:
    """Each target against what happened in its period up to now (a past period: all of it)."""
    cache = {} if cache is None else cache
    reports = uow.metric_reports
    periods = {t.id: period_starting(PeriodKind(t.period_kind), t.period_start, tz) for t in targets}
    # one span_numbers call per (period, scope), computing only what its targets show
    needs: dict[tuple[PeriodKind, date, str], set[str]] = {}
    for target in targets:
        metric = metric_for(target.metric)
        if metric.computed and NEEDS[metric.key]:
            key = (periods[target.id].kind, periods[target.id].start, target.segment)
            if key not in cache:
                needs.setdefault(key, set()).update(NEEDS[metric.key])
    for (kind, start, segment), fields in needs.items():
        period = period_starting(kind, start, tz)
        end = min(period.end_utc, now)
        cache[(kind, start, segment)] = (
            await uow.reports.span_numbers(
                team_id, period.start_utc, end, Scope.parse(segment), frozenset(fields)
            )
            if end > period.start_utc
            else SpanNumbers()
        )
    lines: list[TargetLine] = []
    for target in targets:
        period = periods[target.id]
        metric = metric_for(target.metric)
        elapsed = period.elapsed_fraction(now)
        reported_by, currency, value = None, None, None
        if metric.key == SPEED_TO_LEAD:
            end = min(period.end_utc, now)
            speed = await _speed(
                uow, team_id, period.start_utc, end, now, calendar, Scope.parse(target.segment)
            )
            value = speed.claimed_within
        elif metric.key in (REFERRALS, REFERRAL_WIN_RATE):
            made, won, closed = await uow.retention.referral_stats(
                team_id, period.start_utc, min(period.end_utc, now)
            )
            value = float(made) if metric.key == REFERRALS else (won / closed if closed else None)
        elif metric.computed:
            span = cache[(period.kind, period.start, target.segment)]
            value = value_of(metric, span)
            currency = span.main_currency if len(span.revenue_by_currency) == 1 else None
        else:
            report = await reports.latest(
                team_id, metric.key, target.segment, period.start_utc, period.end_utc
            )
            value = report.value if report else None
            reported_by = report.reported_by if report else None
        lines.append(
            TargetLine(
                metric=metric,
                period=period,
                scope=target.segment,
                target=target.value,
                value=value,
                percent=percent_of_target(metric, value, target.value),
                pace=pace(metric, value, target.value, elapsed),
                elapsed=elapsed,
                currency=currency,
                reported_by=reported_by,
            )
        )
    return lines


async def current_lines(
    uow: UnitOfWork,
    team_id: str,
    now: datetime,
    tz: ZoneInfo,
    cache: dict[tuple[PeriodKind, date, str], SpanNumbers] | None = None,
    calendar: BusinessCalendar | None = None,
) -> list[TargetLine]:
    """The current month's and quarter's targets against what happened so far: month first,
    then the whole team before segments and channels."""
    month = period_containing(PeriodKind.MONTH, now, tz)
    quarter = period_containing(PeriodKind.QUARTER, now, tz)
    targets = await uow.targets.for_periods(team_id, [(p.kind.value, p.start) for p in (month, quarter)])
    lines = await evaluate_targets(uow, team_id, targets, now, tz, cache, calendar)
    lines.sort(key=lambda line: (line.period.kind != PeriodKind.MONTH, line.scope != "", line.scope))
    return lines


async def _speed(
    uow: UnitOfWork,
    team_id: str,
    start: datetime,
    end: datetime,
    now: datetime,
    calendar: BusinessCalendar | None,
    scope: Scope | None = None,
) -> SpeedToLead:
    """Speed to lead over the leads that arrived in [start, end), tallied a chunk at a time with a
    turn of the event loop between chunks (a week can be 100k leads: issue 22)."""
    tally = SpeedTally(now=now, calendar=calendar)
    async for rows in uow.reports.speed_row_chunks(team_id, start, end, scope or Scope()):
        tally.add(rows)
        await asyncio.sleep(0)
    return tally.result()


async def build_scoreboard(
    uow: UnitOfWork, team_id: str, now: datetime, tz: ZoneInfo, calendar: BusinessCalendar | None = None
) -> Scoreboard:
    """The current month's and quarter's targets with their values, the month's funnel and the
    last 7 days' speed to lead (working minutes by `calendar`, wall time without one)."""
    month = period_containing(PeriodKind.MONTH, now, tz)
    quarter = period_containing(PeriodKind.QUARTER, now, tz)
    cache: dict[tuple[PeriodKind, date, str], SpanNumbers] = {}
    cache[(month.kind, month.start, "")] = await uow.reports.span_numbers(team_id, month.start_utc, now)
    lines = await current_lines(uow, team_id, now, tz, cache, calendar)
    speed = await _speed(uow, team_id, now - SPEED_WINDOW, now, now, calendar)
    return Scoreboard(
        now=now,
        month=month,
        quarter=quarter,
        lines=lines,
        funnel=cache[(month.kind, month.start, "")],
        funnel_period=month,
        speed=speed,
    )


@dataclass(frozen=True)
class TargetSet:
    metric: Metric
    period: Period
    scope: str
    value: float
    previous: float | None


async def set_target(
    ctx: Ctx,
    *,
    user_id: str,
    metric: Metric,
    value: float,
    period: PeriodRef,
    scope: str,
) -> TargetSet:
    """Admins only. The same metric/period/scope again replaces the old value."""
    await ctx.require_admin(user_id)
    resolved = resolve_period(period, ctx.now, await ctx.tz())
    if resolved.end_utc <= ctx.now:
        raise InvalidInput(
            {"period": f"{resolved.label} is over; set targets for this period or a later one"}
        )
    _, previous = await ctx.uow.targets.upsert(
        team_id=ctx.team_id,
        metric=metric.key,
        period_kind=resolved.kind.value,
        period_start=resolved.start,
        segment=scope,
        value=value,
        by=user_id,
        at=ctx.now,
    )
    await webhooks.emit(
        ctx,
        EventType.TARGET_UPDATED,
        data={
            "metric": metric.key,
            "period": resolved.kind.value,
            "period_start": resolved.start.isoformat(),
            "period_label": resolved.label,
            "scope": scope,
            "value": value,
            "previous": previous,
            "by": user_id,
        },
    )
    return TargetSet(metric=metric, period=resolved, scope=scope, value=value, previous=previous)


async def set_target_from_text(ctx: Ctx, *, user_id: str, args: str) -> TargetSet:
    await ctx.require_admin(user_id)  # before parsing: non-admins learn nothing from usage errors
    parsed = parse_set_args(args)
    return await set_target(
        ctx,
        user_id=user_id,
        metric=parsed.metric,
        value=parsed.value,
        period=parsed.period,
        scope=parsed.scope,
    )


async def set_target_from_form(
    ctx: Ctx,
    *,
    user_id: str,
    metric_text: str | None,
    manual_name: str | None,
    value_text: str | None,
    period_text: str | None,
    scope_text: str | None,
) -> TargetSet:
    """The modal's fields; InvalidInput keyed by the form's field names."""
    from bot.domain.targets import parse_period_ref

    errors: dict[str, str] = {}
    metric = None
    manual = metric_text == MANUAL_CHOICE
    name = (manual_name or "").strip() if manual else (metric_text or "").strip()
    field = "manual_metric" if manual else "metric"
    if not name:
        errors[field] = "name the metric you will report by hand" if manual else "pick a metric"
    else:
        try:
            metric = resolve_metric(name, allow_manual=manual)
        except InvalidInput as exc:
            errors[field] = next(iter(exc.errors.values()))
    value = None
    if not (value_text or "").strip():
        errors["target_value"] = "enter the target value"
    elif metric is not None:
        try:
            value = parse_value(metric, value_text or "")
        except InvalidInput as exc:
            errors["target_value"] = next(iter(exc.errors.values()))
    period = parse_period_ref(period_text or "month")
    if period is None:
        errors["period"] = "pick a period"
    scope = ""
    try:
        scope = parse_scope(scope_text)
    except InvalidInput as exc:
        errors["segment"] = next(iter(exc.errors.values()))
    if errors or metric is None or value is None or period is None:
        raise InvalidInput(errors)
    return await set_target(ctx, user_id=user_id, metric=metric, value=value, period=period, scope=scope)


@dataclass(frozen=True)
class Reported:
    metric: Metric
    period: Period
    scope: str
    value: float
    target: float | None


async def report_metric(ctx: Ctx, *, user_id: str, args: str) -> Reported:
    """Anyone may report a manual metric's value (who reported is shown beside it); the metric
    must have a target this month or quarter, so a typo does not create a metric nobody sees."""
    parsed = parse_report_args(args)
    tz = await ctx.tz()
    month = period_containing(PeriodKind.MONTH, ctx.now, tz)
    quarter = period_containing(PeriodKind.QUARTER, ctx.now, tz)
    targets = [
        t
        for t in await ctx.uow.targets.for_periods(
            ctx.team_id, [(month.kind.value, month.start), (quarter.kind.value, quarter.start)]
        )
        if t.metric == parsed.metric_key and t.segment == parsed.scope
    ]
    if not targets:
        raise InvalidInput(
            {
                "metric": f"there is no target for `{parsed.metric_key}` this month or quarter; "
                "an admin sets one with `/targets set`"
            }
        )
    # the month's target wins when there are both: it is the shorter, more current period
    target = min(targets, key=lambda t: t.period_kind != PeriodKind.MONTH.value)
    period = period_starting(PeriodKind(target.period_kind), target.period_start, tz)
    repo = ctx.uow.metric_reports
    value = parsed.value
    if parsed.relative:
        latest = await repo.latest(
            ctx.team_id, parsed.metric_key, parsed.scope, period.start_utc, period.end_utc
        )
        value += latest.value if latest else 0.0
    await repo.add(
        team_id=ctx.team_id,
        metric=parsed.metric_key,
        segment=parsed.scope,
        value=value,
        by=user_id,
        at=ctx.now,
    )
    return Reported(metric_for(parsed.metric_key), period, parsed.scope, value, target.value)
