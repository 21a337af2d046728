"""The read side: aggregate queries (the scoreboard, Home, the digest, exports), scoped by team_id.

Writes go through the repositories on the unit of work; reads that count, rank or stream many
rows come here, as methods of `Reports` (`uow.reports`). Every number is one SQL aggregate over
indexed columns.

Counts of "things that happened in a span" each read one (team_id, <event>_at) index range, so
they cost the same whatever the table's size outside the span. The median time to claim is
percentile_cont on PostgreSQL and an ORDER BY ... LIMIT/OFFSET over the covering claim index on
SQLite (which has no percentile aggregate).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.events import SLA_BREACHES
from bot.domain.lead import OPEN_FOR_OWNER
from bot.domain.numbers import QualityReport, QualityRow, SourceVerdicts, SpanNumbers
from bot.domain.speed import SpeedRow
from bot.storage.models import Lead, LeadEvent, RoutingDecision, Target
from bot.storage.sqlite_driver import offloaded, slow_query

CHANNEL_SCOPE_PREFIX = "channel:"
EXPORT_BATCH = 1000  # rows per fetch when streaming an export


@dataclass(frozen=True)
class Scope:
    """Whole team (both None), one lead segment, or one sales channel."""

    segment: str | None = None
    channel_id: str | None = None

    @classmethod
    def parse(cls, stored: str | None) -> Scope:
        """From target.segment: '' = whole team, 'channel:C123' = a channel, else a segment."""
        stored = (stored or "").strip()
        if not stored:
            return cls()
        if stored.startswith(CHANNEL_SCOPE_PREFIX):
            return cls(channel_id=stored[len(CHANNEL_SCOPE_PREFIX) :])
        return cls(segment=stored)

    @property
    def key(self) -> str:
        if self.channel_id:
            return CHANNEL_SCOPE_PREFIX + self.channel_id
        return self.segment or ""

    @property
    def is_team(self) -> bool:
        return not (self.segment or self.channel_id)

    def conditions(self) -> list[ColumnElement[bool]]:
        if self.channel_id:
            return [Lead.channel_id == self.channel_id]
        if self.segment:
            return [Lead.segment == self.segment]
        return []


def _in_span(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _count_in(team_id: str, column: Any, start: datetime, end: datetime, scope: Scope) -> Any:
    return (
        select(func.count())
        .select_from(Lead)
        .where(Lead.team_id == team_id, _in_span(column, start, end), *scope.conditions())
        .scalar_subquery()
    )


COUNT_COLUMNS = {
    "delivered": Lead.created_at,
    "claimed": Lead.claimed_at,
    "verdicts": Lead.verdict_at,
    "accepted": Lead.accepted_at,
    "meetings": Lead.meeting_at,
    "won": Lead.won_at,
}
ALL_FIELDS = frozenset({*COUNT_COLUMNS, "revenue", "median"})


NO_SOURCE = "(no source)"


QUALITY_KEY_SEPARATOR = "\x1f"  # between source, campaign and reason in Lead.quality_key
QUALITY_MEASURES = (
    ("delivered", func.count()),
    ("verdicts", func.count(Lead.verdict_at)),
    ("accepted", func.count(Lead.accepted_at)),
    ("won", func.count(Lead.won_at)),
    ("closed", func.count(func.coalesce(Lead.won_at, Lead.lost_at))),
    ("rating_sum", func.coalesce(func.sum(Lead.quality), 0)),
    ("ratings", func.count(Lead.quality)),
)


class Reports:
    """Aggregate reads over one session (the unit of work's: `uow.reports`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @slow_query
    async def span_numbers(
        self,
        team_id: str,
        start: datetime,
        end: datetime,
        scope: Scope = Scope(),
        fields: frozenset[str] = ALL_FIELDS,
    ) -> SpanNumbers:
        """The funnel counts for a span in one round trip (scalar subqueries, one index range each),
        plus revenue and the median time to claim. `fields` limits the work to what a caller shows:
        at 1M leads each skipped count is a skipped index range scan."""
        numbers = SpanNumbers()
        wanted = {
            k: c for k, c in COUNT_COLUMNS.items() if k in fields or (k == "claimed" and "median" in fields)
        }
        if wanted:
            stmt = select(*(_count_in(team_id, col, start, end, scope).label(k) for k, col in wanted.items()))
            row = (await self.session.execute(stmt)).one()
            for key in wanted:
                setattr(numbers, key, int(getattr(row, key) or 0))
        if "revenue" in fields:
            revenue = await self.session.execute(
                select(Lead.currency, func.sum(Lead.won_amount))
                .where(Lead.team_id == team_id, _in_span(Lead.won_at, start, end), *scope.conditions())
                .where(Lead.won_amount.is_not(None))
                .group_by(Lead.currency)
            )
            for currency, total in revenue:
                key = currency or ""
                numbers.revenue_by_currency[key] = numbers.revenue_by_currency.get(key, 0.0) + float(
                    total or 0
                )
            numbers.revenue = sum(numbers.revenue_by_currency.values())
        if "median" in fields:
            numbers.median_claim_seconds = await self.median_claim_seconds(
                team_id, start, end, scope, count=numbers.claimed
            )
        return numbers

    @slow_query
    async def median_claim_seconds(
        self,
        team_id: str,
        start: datetime,
        end: datetime,
        scope: Scope = Scope(),
        *,
        count: int | None = None,
    ) -> float | None:
        """Median of claimed_at - created_at over leads claimed in the span (None when none were)."""
        where = [Lead.team_id == team_id, _in_span(Lead.claimed_at, start, end), *scope.conditions()]
        if self.session.get_bind().dialect.name == "postgresql":
            seconds = func.extract("epoch", Lead.claimed_at - Lead.created_at)
            value = await self.session.scalar(
                select(func.percentile_cont(0.5).within_group(seconds.asc())).where(*where)
            )
            return float(value) if value is not None else None
        if count is None:
            count = int(await self.session.scalar(select(func.count()).select_from(Lead).where(*where)) or 0)
        if count == 0:
            return None
        # SQLite: julianday() differences are in days; the covering (team_id, claimed_at, created_at)
        # index means this reads only the span's index entries, then sorts their durations.
        claim_seconds = ((func.julianday(Lead.claimed_at) - func.julianday(Lead.created_at)) * 86400.0).label(
            "s"
        )
        middle = 2 - count % 2  # two middle values when the count is even
        stmt = (
            select(claim_seconds).where(*where).order_by(claim_seconds).limit(middle).offset((count - 1) // 2)
        )
        values = [float(v) for v in await self.session.scalars(stmt)]
        return sum(values) / len(values) if values else None

    async def speed_row_chunks(
        self, team_id: str, start: datetime, end: datetime, scope: Scope = Scope(), *, size: int = 500
    ) -> AsyncIterator[Sequence[tuple[Any, ...]]]:
        """speed_rows as (created_at, posted_at, claimed_at, contacted_at) tuples, `size` at a time
        from a streamed result: a week of 100k leads is neither held in memory at once nor
        converted in one go on the event loop (the weekly digest's stall and peak, issue 22; 2,000
        rows and their tally were 12 ms of the loop a chunk, and the loop was held over 50 ms under
        load on PostgreSQL)."""
        with offloaded():
            result = await self.session.stream(
                select(Lead.created_at, Lead.posted_at, Lead.claimed_at, Lead.contacted_at)
                .where(Lead.team_id == team_id, _in_span(Lead.created_at, start, end), *scope.conditions())
                .limit(100_000)
            )
        parts = result.partitions(size).__aiter__()
        while True:
            # SQLite steps through the rows on the worker thread: the digest held the loop over 50 ms
            # 15 times at 100k leads (bench.jobs); never across the yield, so the caller's own
            # statements stay on the loop
            with offloaded():
                try:
                    part = await anext(parts)
                except StopAsyncIteration:
                    return
            yield [tuple(row) for row in part]

    @slow_query
    async def speed_rows(
        self, team_id: str, start: datetime, end: datetime, scope: Scope = Scope(), limit: int = 100_000
    ) -> list[SpeedRow]:
        """Arrival, visibility, claim and first contact of the leads that arrived in the span (the
        (team_id, created_at, segment, channel_id) index range, then the rows)."""
        rows = await self.session.execute(
            select(Lead.created_at, Lead.posted_at, Lead.claimed_at, Lead.contacted_at)
            .where(Lead.team_id == team_id, _in_span(Lead.created_at, start, end), *scope.conditions())
            .limit(limit)
        )
        return [SpeedRow(*row) for row in rows]

    @slow_query
    async def lead_quality(
        self, team_id: str, now: datetime, windows: Sequence[int] = (30, 90)
    ) -> QualityReport:
        """Cohorts of leads delivered in each window, by source, campaign and rejection reason.

        A GROUP BY over a quarter of leads is a sort of ~300k rows on SQLite (which has no hash
        aggregate): most of a second at 1M leads. Instead this walks ix_lead_team_quality
        (team_id, quality_key, created_at, ...): a recursive CTE seeks from one distinct quality_key
        to the next (one index seek per group, however many leads share it), and for each group and
        window bucket a correlated subquery aggregates one contiguous index range. Every lead in a
        window is read once, index-only, and nothing is sorted. The subquery returns its measures as
        one space-separated string because a scalar subquery has one column (SQLite has no LATERAL).
        Bucket i holds leads delivered in [edge_i, edge_{i-1}); Python folds buckets into windows."""
        windows = sorted(set(windows))
        edges = [now - timedelta(days=d) for d in windows]  # newest edge first
        uppers = [now, *edges[:-1]]

        first = (
            select(Lead.quality_key)
            .where(Lead.team_id == team_id)
            .order_by(Lead.quality_key)
            .limit(1)
            .scalar_subquery()
        )
        keys = select(first.label("key")).cte("quality_keys", recursive=True)
        previous = keys.alias("previous")
        following = (
            select(Lead.quality_key)
            .where(Lead.team_id == team_id, Lead.quality_key > previous.c.key)
            .order_by(Lead.quality_key)
            .limit(1)
            .scalar_subquery()
        )
        keys = keys.union_all(select(following).where(previous.c.key.is_not(None)))

        def packed(low: datetime, high: datetime) -> Any:
            text_value: Any = None
            for _, measure in QUALITY_MEASURES:
                part = cast(measure, String)
                text_value = part if text_value is None else text_value.concat(" ").concat(part)
            return (
                select(text_value)
                .where(
                    Lead.team_id == team_id,
                    Lead.quality_key == keys.c.key,
                    Lead.created_at >= low,
                    Lead.created_at < high,
                )
                .scalar_subquery()
            )

        stmt = select(
            keys.c.key,
            *(
                packed(low, high).label(f"b{i}")
                for i, (low, high) in enumerate(zip(edges, uppers, strict=True))
            ),
        ).where(keys.c.key.is_not(None))

        by_source: dict[int, dict[str, QualityRow]] = {d: {} for d in windows}
        by_campaign: dict[int, dict[tuple[str, str | None], QualityRow]] = {d: {} for d in windows}
        totals = {d: QualityRow(source="", campaign=None) for d in windows}
        for key, *buckets in await self.session.execute(stmt):
            source, campaign, reason = [*key.split(QUALITY_KEY_SEPARATOR, 2), "", ""][:3]
            source = source or NO_SOURCE
            for index, packed_values in enumerate(buckets):
                names = (name for name, _ in QUALITY_MEASURES)
                values = dict(zip(names, packed_values.split(), strict=True))
                if not int(values["delivered"]):
                    continue  # a group with no leads in this bucket (e.g. an old campaign)
                part = QualityRow(
                    source=source,
                    campaign=campaign or None,
                    delivered=int(values["delivered"]),
                    verdicts=int(values["verdicts"]),
                    accepted=int(values["accepted"]),
                    won=int(values["won"]),
                    closed=int(values["closed"]),
                    rating_sum=float(values["rating_sum"]),
                    ratings=int(values["ratings"]),
                )
                if reason:
                    # every lead of this group carries this reason (only rejected leads have one)
                    part.reasons[reason] = part.delivered
                for days in windows[index:]:
                    by_source[days].setdefault(source, QualityRow(source=source, campaign=None)).add(part)
                    if campaign:
                        by_campaign[days].setdefault(
                            (source, campaign), QualityRow(source=source, campaign=campaign)
                        ).add(part)
                    totals[days].add(part)

        def ranked(rows: Any) -> list[QualityRow]:
            return sorted(rows, key=lambda r: (-r.delivered, r.source, r.campaign or ""))

        return QualityReport(
            by_source={d: ranked(v.values()) for d, v in by_source.items()},
            by_campaign={d: ranked(v.values()) for d, v in by_campaign.items()},
            totals=totals,
        )

    @slow_query
    async def verdicts_by_source(self, team_id: str, start: datetime, end: datetime) -> list[SourceVerdicts]:
        """Verdicts given in the span, per source (the digest's best and worst sources)."""
        stmt = (
            select(Lead.source, func.count(), func.count(Lead.accepted_at))
            .where(Lead.team_id == team_id, _in_span(Lead.verdict_at, start, end))
            .group_by(Lead.source)
        )
        return [
            SourceVerdicts(s or NO_SOURCE, int(v), int(a)) for s, v, a in await self.session.execute(stmt)
        ]

    @slow_query
    async def sla_breaches(self, team_id: str, start: datetime, end: datetime) -> dict[str, int]:
        """SLA breach events in the span, by kind (the (team_id, kind, created_at) index)."""
        stmt = (
            select(LeadEvent.kind, func.count())
            .where(
                LeadEvent.team_id == team_id,
                LeadEvent.kind.in_([k.value for k in SLA_BREACHES]),
                _in_span(LeadEvent.created_at, start, end),
            )
            .group_by(LeadEvent.kind)
        )
        return {kind: int(n) for kind, n in await self.session.execute(stmt)}

    async def open_leads_for(
        self, team_id: str, owner_id: str, *, limit: int, offset: int = 0
    ) -> tuple[list[Lead], int]:
        """A rep's open leads, stalest first (they need attention first), and how many there are."""
        where = [
            Lead.team_id == team_id,
            Lead.owner_id == owner_id,
            Lead.status.in_([s.value for s in OPEN_FOR_OWNER]),
        ]
        total = int(await self.session.scalar(select(func.count()).select_from(Lead).where(*where)) or 0)
        rows = await self.session.scalars(
            select(Lead).where(*where).order_by(Lead.updated_at, Lead.id).limit(limit).offset(offset)
        )
        return list(rows), total

    async def nurture(self, team_id: str, limit: int = 50) -> tuple[list[Lead], dict[str | None, int]]:
        """Leads sales sent back as "not ready", newest first, and how many there are per channel
        (so a count can leave out the channels a person may not see)."""
        where = [Lead.team_id == team_id, Lead.nurture.is_(True)]
        rows = await self.session.scalars(
            select(Lead).where(*where).order_by(Lead.rejected_at.desc(), Lead.id.desc()).limit(limit)
        )
        counts = await self.session.execute(
            select(Lead.channel_id, func.count(Lead.id)).where(*where).group_by(Lead.channel_id)
        )
        return list(rows), {channel: int(n) for channel, n in counts}

    async def leads_created(
        self, team_id: str, since: datetime | None, *, batch: int = EXPORT_BATCH
    ) -> AsyncIterator[Lead]:
        """Every lead created since `since` (all with None), oldest first, streamed `batch` at a time."""
        stmt = select(Lead).where(Lead.team_id == team_id)
        if since is not None:
            stmt = stmt.where(Lead.created_at >= since)
        stmt = stmt.order_by(Lead.created_at, Lead.id).execution_options(yield_per=batch)
        async for lead in await self.session.stream_scalars(stmt):
            yield lead

    async def leads_created_routed(
        self, team_id: str, since: datetime | None, *, batch: int = EXPORT_BATCH
    ) -> AsyncIterator[tuple[Lead, dict[str, Any] | None]]:
        """`leads_created`, each with its stored routing decision's why (None before 0012)."""
        stmt = (
            select(Lead, RoutingDecision.detail)
            .outerjoin(
                RoutingDecision,
                (RoutingDecision.team_id == Lead.team_id) & (RoutingDecision.lead_id == Lead.id),
            )
            .where(Lead.team_id == team_id)
        )
        if since is not None:
            stmt = stmt.where(Lead.created_at >= since)
        stmt = stmt.order_by(Lead.created_at, Lead.id).execution_options(yield_per=batch)
        async for lead, detail in await self.session.stream(stmt):
            yield lead, detail

    async def rep_fairness(self, team_id: str, start: datetime, end: datetime) -> dict[str, dict[str, int]]:
        """Per rep in [start, end): leads offered to them by routing (the decision's assignee),
        claimed, passed (assign mode's Pass) and the decisions that skipped them for a cap."""
        out: dict[str, dict[str, int]] = {}

        def add(rep: object, key: str, count: int) -> None:
            if rep:
                out.setdefault(str(rep), {"offered": 0, "claimed": 0, "passed": 0, "capped": 0})[key] += count

        offered = await self.session.execute(
            select(RoutingDecision.assignee_id, func.count())
            .where(
                RoutingDecision.team_id == team_id,
                RoutingDecision.created_at >= start,
                RoutingDecision.created_at < end,
                RoutingDecision.assignee_id.is_not(None),
            )
            .group_by(RoutingDecision.assignee_id)
        )
        for rep, count in offered:
            add(rep, "offered", int(count))
        claimed = await self.session.execute(
            select(Lead.owner_id, func.count())
            .where(
                Lead.team_id == team_id,
                Lead.claimed_at >= start,
                Lead.claimed_at < end,
                Lead.owner_id.is_not(None),
            )
            .group_by(Lead.owner_id)
        )
        for rep, count in claimed:
            add(rep, "claimed", int(count))
        passed = await self.session.execute(
            select(LeadEvent.actor_id, func.count())
            .where(
                LeadEvent.team_id == team_id,
                LeadEvent.kind == "offer_passed",
                LeadEvent.created_at >= start,
                LeadEvent.created_at < end,
                LeadEvent.actor_id.is_not(None),
            )
            .group_by(LeadEvent.actor_id)
        )
        for rep, count in passed:
            add(rep, "passed", int(count))
        # the decisions that skipped someone for a cap (only those carry the list)
        capped = await self.session.scalars(
            select(RoutingDecision.capped).where(
                RoutingDecision.team_id == team_id,
                RoutingDecision.created_at >= start,
                RoutingDecision.created_at < end,
                RoutingDecision.capped.is_not(None),
            )
        )
        for reps in capped:
            for rep in reps or []:
                add(rep, "capped", 1)
        return out

    async def leads_with_verdict(
        self, team_id: str, since: datetime | None, *, batch: int = EXPORT_BATCH
    ) -> AsyncIterator[Lead]:
        """Leads sales gave a verdict on since `since`, in verdict order, streamed `batch` at a time."""
        stmt = select(Lead).where(Lead.team_id == team_id, Lead.verdict_at.is_not(None))
        if since is not None:
            stmt = stmt.where(Lead.verdict_at >= since)
        stmt = stmt.order_by(Lead.verdict_at, Lead.id).execution_options(yield_per=batch)
        async for lead in await self.session.stream_scalars(stmt):
            yield lead

    async def teams_with_data(self) -> list[str]:
        """The workspaces this database holds leads or targets for, sorted (what an export can read)."""
        stmt = union(select(Lead.team_id).distinct(), select(Target.team_id).distinct())
        return sorted(await self.session.scalars(stmt))
