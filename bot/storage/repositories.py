"""Repositories for the core tables; every query is scoped by team_id."""

from __future__ import annotations

import typing
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Result, and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement

from bot.domain.lead import Status
from bot.domain.outbox import (
    ANY_QUEUE,
    LANE_DELAY,
    LEASE_EXPIRED,
    QUEUED,
    Lane,
    OutboxStatus,
    Purpose,
    QueuedFor,
)
from bot.domain.reasons import REASONS_KEY, RETIRED_REASONS_KEY, normalise_reasons, retired_reasons
from bot.storage.models import (
    SLA_CLOCK_FIELDS,
    SLACK_BOTS,
    Lead,
    LeadEvent,
    Member,
    Outbox,
    ProcessedKey,
    RoutingRule,
    ScheduleSlot,
    SettingAudit,
    WorkspaceSetting,
    sla_check_after_move,
)
from bot.storage.raw import raw_sql

LEAD = Lead.__table__
EVENT = LeadEvent.__table__
OUTBOX = Outbox.__table__
SETTING = WorkspaceSetting.__table__
RULE = RoutingRule.__table__
MEMBER = Member.__table__


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def affected(result: Result[Any]) -> int:
    """Rows an INSERT, UPDATE or DELETE changed (DML answers with a CursorResult)."""
    return int(typing.cast(CursorResult[Any], result).rowcount or 0)


async def insert_ignore(session: AsyncSession, model: type, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on either database; True when this call inserted."""
    insert = postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    result = await session.execute(insert(model).values(**values).on_conflict_do_nothing())
    return affected(result) > 0


def _with_sla_check(values: dict[str, Any]) -> dict[str, Any]:
    """A move that (re)starts or stops an SLA clock sets lead.sla_check_at in the same statement."""
    if "sla_check_at" in values or not SLA_CLOCK_FIELDS.intersection(values):
        return values
    at = values.get("updated_at", Lead.created_at)  # either way: judged at the next SLA pass
    return {**values, "sla_check_at": sla_check_after_move(values.get("status"), at)}


def visible_sql(session: AsyncSession, at: datetime) -> tuple[str, list[Any]]:
    """SET clauses (for the driver, bot.storage.raw) and their values for "this lead's card (or
    line, or DM) was posted at `at`": posted_at, if not yet set, and in the same statement the SLA
    check time if the lead is new and was not posted before, since the unclaimed clock starts now
    (both read the row as it was before the UPDATE)."""
    codec = raw_sql(session).codec(LEAD)
    sql = (
        "posted_at = COALESCE(posted_at, ?), "
        "sla_check_at = CASE WHEN posted_at IS NULL AND status = ? THEN ? ELSE sla_check_at END"
    )
    return sql, [codec.bind("posted_at", at), Status.NEW.value, codec.bind("sla_check_at", at)]


def _line_order(row: dict[str, Any]) -> tuple[bool, datetime | None, int]:
    # rank_at is NULL only for rows queued by a release before it existed: first, as SQLite orders them
    return (row["rank_at"] is not None, row["rank_at"], row["id"])


class LeadRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, team_id: str, lead_id: int) -> Lead | None:
        return await self.session.scalar(select(Lead).where(Lead.team_id == team_id, Lead.id == lead_id))

    async def read(self, team_id: str, lead_id: int) -> Lead | None:
        """The lead to look at, not to change through the ORM (bot.storage.raw: a Claim's read)."""
        raw = raw_sql(self.session)
        codec = raw.codec(LEAD)
        rows = await raw.rows(
            f"SELECT {codec.column_list} FROM lead WHERE team_id = ? AND id = ?", (team_id, lead_id)
        )
        return raw.refreshed(Lead, codec.row(rows[0])) if rows else None

    async def fresh(self, team_id: str, lead_id: int) -> Lead | None:
        """Read the lead as the database has it now, even if this transaction read it before (a
        lost compare-and-set must see the winner, not the row from the transaction's start)."""
        stmt = select(Lead).where(Lead.team_id == team_id, Lead.id == lead_id)
        return await self.session.scalar(stmt.execution_options(populate_existing=True))

    async def lock(self, team_id: str, lead_id: int) -> Lead | None:
        """Read the lead fresh and, on PostgreSQL, hold its row until the transaction ends, so a
        reminder and a concurrent claim cannot both act on the old state."""
        stmt = (
            select(Lead)
            .where(Lead.team_id == team_id, Lead.id == lead_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(stmt)

    async def get_many(self, lead_ids: Sequence[int]) -> dict[tuple[str, int], Lead]:
        """Leads by id in one query, keyed by (team_id, id) so callers stay scoped by workspace."""
        if not lead_ids:
            return {}
        leads = await self.session.scalars(select(Lead).where(Lead.id.in_(sorted(set(lead_ids)))))
        return {(lead.team_id, lead.id): lead for lead in leads}

    async def by_dedupe_key(self, team_id: str, key: str) -> Lead | None:
        return await self.session.scalar(select(Lead).where(Lead.team_id == team_id, Lead.dedupe_key == key))

    async def latest_by_email(self, team_id: str, email: str, since: datetime) -> Lead | None:
        stmt = (
            select(Lead)
            .where(Lead.team_id == team_id, Lead.email == email, Lead.created_at >= since)
            .order_by(Lead.created_at.desc(), Lead.id.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def by_dedupe_keys(self, team_id: str, keys: Sequence[str]) -> dict[str, Lead]:
        """The stored leads holding any of these dedupe keys, by key (one query for a batch; through
        the driver, bot.storage.raw: every lead that comes in asks)."""
        if not keys:
            return {}
        wanted = sorted(set(keys))
        leads = await self._read_many(
            f"team_id = ? AND dedupe_key IN ({', '.join('?' * len(wanted))})", [team_id, *wanted]
        )
        return {lead.dedupe_key: lead for lead in leads}

    async def latest_by_emails(self, team_id: str, emails: Sequence[str], since: datetime) -> dict[str, Lead]:
        """For each email, its newest lead created since `since` (one query for a batch)."""
        if not emails:
            return {}
        wanted = sorted(set(emails))
        raw = raw_sql(self.session)
        leads = await self._read_many(
            f"team_id = ? AND email IN ({', '.join('?' * len(wanted))}) AND created_at >= ? "
            "ORDER BY created_at DESC, id DESC",
            [team_id, *wanted, raw.codec(LEAD).bind("created_at", since)],
        )
        latest: dict[str, Lead] = {}
        for lead in leads:
            latest.setdefault(lead.email, lead)
        return latest

    async def _read_many(self, where: str, params: Sequence[Any]) -> list[Lead]:
        raw = raw_sql(self.session)
        codec = raw.codec(LEAD)
        rows = await raw.rows(f"SELECT {codec.column_list} FROM lead WHERE {where}", params)
        return [raw.refreshed(Lead, codec.row(row)) for row in rows]

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> dict[str, Lead]:
        """Insert many leads with multi-row INSERT ... RETURNING (through the driver,
        bot.storage.raw); the stored leads by dedupe key (unique per workspace). A unique
        violation (a concurrent writer took a key) raises: run it in `uow.savepoint()`. A None
        given (posted_at: not visible yet) is stored as NULL."""
        if not rows:
            return {}
        # the defaults the ORM computed from the row (constant ones come from the columns: raw.py)
        complete = [
            {
                "fields": {},
                "sla_check_at": sla_check_after_move(
                    row.get("status") or Status.NEW.value, row["created_at"]
                ),
                **row,
            }
            for row in rows
        ]
        raw = raw_sql(self.session)
        stored = await raw.insert_many(LEAD, complete, returning=True)
        return {lead.dedupe_key: lead for lead in (raw.refreshed(Lead, values) for values in stored)}

    async def add(self, lead: Lead) -> Lead:
        self.session.add(lead)
        await self.session.flush()
        return lead

    async def compare_and_set(
        self, team_id: str, lead_id: int, *, expected: Sequence[str], values: dict[str, Any]
    ) -> bool:
        """UPDATE ... WHERE status IN expected: the row count decides who won a race."""
        stmt = (
            update(Lead)
            .where(Lead.team_id == team_id, Lead.id == lead_id, Lead.status.in_(list(expected)))
            .values(**_with_sla_check(values))
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return affected(result) == 1

    async def set_if(
        self,
        team_id: str,
        lead_id: int,
        *,
        expected: Sequence[str],
        values: dict[str, Any],
        offered_to: str | None = None,
        in_channel: str | None = None,
    ) -> Lead | None:
        """compare_and_set that also returns the updated lead (UPDATE ... RETURNING: one round
        trip instead of an UPDATE and a SELECT); None when the lead was not in `expected` (or,
        with `offered_to`, no longer offered to that rep; with `in_channel`, not that channel's)."""
        values = _with_sla_check(values)
        if not any(isinstance(value, ClauseElement) for value in values.values()):
            return await self._set_if_raw(team_id, lead_id, expected, values, offered_to, in_channel)
        where = [Lead.team_id == team_id, Lead.id == lead_id, Lead.status.in_(list(expected))]
        if offered_to is not None:
            where.append(Lead.assignee_id == offered_to)
        if in_channel is not None:
            where.append(Lead.channel_id == in_channel)
        stmt = (
            update(Lead)
            .where(*where)
            .values(**values)
            .returning(Lead)
            # the lead may have been read earlier in this transaction: show the row as updated
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        return await self.session.scalar(stmt)

    async def _set_if_raw(
        self,
        team_id: str,
        lead_id: int,
        expected: Sequence[str],
        values: dict[str, Any],
        offered_to: str | None,
        in_channel: str | None,
    ) -> Lead | None:
        """set_if's one statement through the driver (a Claim's compare-and-set, bot.storage.raw);
        a lead the session holds is updated in place, as populate_existing did."""
        raw = raw_sql(self.session)
        codec = raw.codec(LEAD)
        sql = (
            f"UPDATE lead SET {', '.join(f'{name} = ?' for name in values)} "
            f"WHERE team_id = ? AND id = ? AND status IN ({', '.join('?' * len(expected))})"
            + (" AND assignee_id = ?" if offered_to is not None else "")
            + (" AND channel_id = ?" if in_channel is not None else "")
            + f" RETURNING {codec.column_list}"
        )
        params = [codec.bind(name, value) for name, value in values.items()]
        params += [team_id, lead_id, *expected]
        params += [value for value in (offered_to, in_channel) if value is not None]
        rows = await raw.rows(sql, params)
        return raw.refreshed(Lead, codec.row(rows[0])) if rows else None

    async def set_visible(self, team_id: str, lead_id: int, *, at: datetime) -> None:
        """Sales can see the lead from `at` (e.g. its offer reached a rep's DM)."""
        visible, params = visible_sql(self.session, at)
        await raw_sql(self.session).execute(
            f"UPDATE lead SET {visible} WHERE team_id = ? AND id = ?", [*params, team_id, lead_id]
        )

    async def refresh(self, lead: Lead) -> Lead:
        await self.session.refresh(lead)
        return lead

    async def set_message(
        self, team_id: str, lead_id: int, *, channel_id: str, ts: str, at: datetime | None = None
    ) -> None:
        """The lead's card was posted (at `at`): remember where, and that sales can now see it.
        Through the driver (bot.storage.raw): the outbox records one per card posted."""
        sets, params = ["channel_id = ?", "message_ts = ?"], [channel_id, ts]
        if at is not None:
            visible, params_visible = visible_sql(self.session, at)
            sets.append(visible)
            params += params_visible
        await raw_sql(self.session).execute(
            f"UPDATE lead SET {', '.join(sets)} WHERE team_id = ? AND id = ?", [*params, team_id, lead_id]
        )

    async def for_owner(
        self, team_id: str, owner_id: str, statuses: Sequence[str], limit: int = 50
    ) -> list[Lead]:
        stmt = (
            select(Lead)
            .where(Lead.team_id == team_id, Lead.owner_id == owner_id, Lead.status.in_(list(statuses)))
            .order_by(Lead.created_at)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))

    async def search(self, team_id: str, query: str, limit: int = 20) -> list[Lead]:
        like = f"%{query.lower().replace('%', '').replace('_', '')}%"
        stmt = (
            select(Lead)
            .where(
                Lead.team_id == team_id,
                or_(
                    func.lower(Lead.email).like(like),
                    func.lower(Lead.name).like(like),
                    func.lower(Lead.company).like(like),
                ),
            )
            .order_by(Lead.created_at.desc())
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))


class EventRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(
        self,
        *,
        team_id: str,
        lead_id: int,
        kind: str,
        actor_id: str | None,
        origin: str,
        at: datetime,
        data: dict[str, Any] | None = None,
    ) -> None:
        # one INSERT through the driver (bot.storage.raw): every Claim and quick add writes one
        values = {
            "team_id": team_id,
            "lead_id": lead_id,
            "kind": kind,
            "actor_id": actor_id,
            "origin": origin,
            "data": data or {},
            "created_at": at,
        }
        await raw_sql(self.session).insert(EVENT, values)

    async def append_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append many events (LeadEvent columns) with multi-row INSERTs (intake's batches)."""
        await raw_sql(self.session).insert_many(EVENT, [{"data": {}, **row} for row in rows])

    async def for_lead(self, team_id: str, lead_id: int) -> list[LeadEvent]:
        stmt = (
            select(LeadEvent)
            .where(LeadEvent.team_id == team_id, LeadEvent.lead_id == lead_id)
            .order_by(LeadEvent.created_at, LeadEvent.id)
        )
        return list(await self.session.scalars(stmt))


def _queued_for(row: dict[str, Any]) -> QueuedFor:
    lane = row.get("lane")
    return (row.get("channel_id"), Lane.PERSON if lane is None else Lane(lane))  # no lane: worth a pass


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # where this transaction queued rows, for the sender once it commits (UnitOfWork.queued)
        self.queued: set[QueuedFor] = set()

    async def add(self, row: dict[str, Any]) -> None:
        """Queue one write (see bot.outbox.notifier): one INSERT through the driver (bot.storage.raw),
        in this transaction."""
        await raw_sql(self.session).insert(OUTBOX, row)
        self.queued.add(_queued_for(row))

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Queue many writes with multi-row INSERTs (intake's batches; bot.storage.raw)."""
        await raw_sql(self.session).insert_many(OUTBOX, rows)
        self.queued.update(map(_queued_for, rows))

    async def get_many(self, row_ids: Sequence[int]) -> list[Outbox]:
        """The rows, in one query (the session's identity map holds them only while the caller does)."""
        return list(await self.session.scalars(select(Outbox).where(Outbox.id.in_(list(row_ids)))))

    async def claim_due(
        self,
        *,
        now: datetime,
        instance: str,
        lease: timedelta,
        limit: int,
        skip_channels: Sequence[str] = (),
        max_lane: Lane | None = None,
    ) -> list[Outbox]:
        """Take due rows for this instance, first in line first: pending ones, and 'sending' ones
        whose lease ran out, in order of rank_at (created_at + the lane's head start: lower lanes
        first, first in first out within a lane, older rows aging up). None for `skip_channels`
        (the sender's queue for them is full already) except hot leads and what a person waits
        for, which must not wait behind a bulk queue. The rows come back as they now stand, as
        snapshots outside the session (bot.storage.raw): to read, never flushed."""
        # Through the driver (bot.storage.raw): the ORM's loading and flush of a batch of 50 rows
        # held the loop 14 ms on SQLite and 10-11 ms on PostgreSQL (10k rows queued; now 9-10 and
        # 3-4 ms, the rest SQLite's own walk and writes).
        raw = raw_sql(self.session)
        codec = raw.codec(OUTBOX)
        keys = raw.codec(OUTBOX, ("id", "rank_at"))
        extra, extra_params = "", []
        if max_lane is not None:
            # only lanes up to max_lane: rows of those lanes created by now rank at most its head
            # start ahead, so the walk is that short range of the index (plus aged lower lanes)
            extra += " AND rank_at <= ? AND lane <= ?"
            extra_params += [codec.bind("rank_at", now + LANE_DELAY[max_lane]), int(max_lane)]
        if skip_channels:
            extra += f" AND (channel_id IS NULL OR channel_id NOT IN ({', '.join('?' * len(skip_channels))}) OR lane <= ?)"
            extra_params += [*skip_channels, int(Lane.HOT)]
        # several instances on PostgreSQL: each takes rows the others have not locked
        lock = " FOR UPDATE SKIP LOCKED" if raw.postgres else ""
        found: list[dict[str, Any]] = []
        # two walks of ix_outbox_rank (status, rank_at, id), one per status, each in line order
        for due, params in (
            (
                "status = ? AND claimed_until < ?",
                [OutboxStatus.SENDING.value, codec.bind("claimed_until", now)],
            ),
            (
                "status = ? AND next_attempt_at <= ?",
                [OutboxStatus.PENDING.value, codec.bind("next_attempt_at", now)],
            ),
        ):
            sql = f"SELECT id, rank_at FROM outbox WHERE {due}{extra} ORDER BY rank_at, id LIMIT ?{lock}"
            found += [keys.row(row) for row in await raw.rows(sql, [*params, *extra_params, limit])]
        found = sorted(found, key=_line_order)[:limit]
        if not found:
            return []
        # the instance that held a "sending" row died or stalled: it may have posted before it
        # stopped, so the sender looks for the message before posting again (LEASE_EXPIRED)
        sql = (
            "UPDATE outbox SET status = ?, claimed_by = ?, claimed_until = ?, attempts = attempts + 1, "
            "last_error = CASE WHEN status = ? THEN ? ELSE last_error END "
            f"WHERE id IN ({', '.join('?' * len(found))}) RETURNING {codec.column_list}"
        )
        params = [
            OutboxStatus.SENDING.value,
            instance,
            codec.bind("claimed_until", now + lease),
            OutboxStatus.SENDING.value,
            LEASE_EXPIRED,
            *(row["id"] for row in found),
        ]
        claimed = [codec.row(row) for row in await raw.rows(sql, params)]
        return [raw.refreshed(Outbox, row) for row in sorted(claimed, key=_line_order)]

    async def get(self, row_id: int) -> Outbox | None:
        return await self.session.get(Outbox, row_id)

    async def signal_card(self, team_id: str, channel_id: str, signal_id: int) -> Outbox | None:
        """The DM that shows a customer signal to its owner: a signal_card post whose `signals`
        list holds it (ref_id is the list's first id, so the owner's latest few are enough)."""
        rows = await self.session.scalars(
            select(Outbox)
            .where(
                Outbox.team_id == team_id,
                Outbox.purpose == Purpose.SIGNAL_CARD.value,
                Outbox.channel_id == channel_id,
                Outbox.ref_table == "customer_signal",
                Outbox.ref_id <= signal_id,
            )
            .order_by(Outbox.ref_id.desc(), Outbox.id.desc())
            .limit(50)
        )
        return next((row for row in rows if signal_id in (row.payload or {}).get("signals", [])), None)

    async def requeue_failed(self, team_id: str, *, now: datetime) -> int:
        """Put the workspace's given-up deliveries back in the queue, due now, with a fresh count
        of attempts; returns how many. Alerts about failures are not re-sent (they are stale).
        A row tried more than once may have reached Slack without us hearing back, so it keeps
        one attempt: the sender then looks for it before posting (never the same row twice)."""
        failed = and_(
            Outbox.team_id == team_id, Outbox.status == OutboxStatus.FAILED, Outbox.purpose != Purpose.ALERT
        )
        values = {
            "status": OutboxStatus.PENDING,
            "next_attempt_at": now,
            "claimed_by": None,
            "claimed_until": None,
        }
        total = 0
        for condition, attempts in ((Outbox.attempts <= 1, 0), (Outbox.attempts > 1, 1)):
            result = await self.session.execute(
                update(Outbox)
                .where(failed, condition)
                .values(**values, attempts=attempts)
                .execution_options(synchronize_session=False)
            )
            total += int(getattr(result, "rowcount", 0) or 0)
        if total:
            self.queued.add(ANY_QUEUE)
        return total

    async def offer_message(self, lead_id: int, rep: str) -> tuple[str | None, bool]:
        """Where the DM offering the lead to `rep` is: (its ts, still being sent?)."""
        rows = await self.session.execute(
            select(Outbox.status, Outbox.result_channel, Outbox.result_ts)
            .where(
                Outbox.lead_id == lead_id,
                Outbox.channel_id == rep,
                Outbox.purpose == Purpose.LEAD_OFFER,
            )
            .order_by(Outbox.id.desc())
        )
        for status, channel, ts in rows:
            if status == OutboxStatus.SENT and ts:
                return f"{channel}:{ts}", False
            if status in QUEUED:
                return None, True
        return None, False

    async def pending_card_post(self, lead_id: int) -> Outbox | None:
        stmt = select(Outbox).where(
            Outbox.lead_id == lead_id,
            Outbox.purpose == Purpose.LEAD_CARD,
            Outbox.status.in_(QUEUED),
        )
        return await self.session.scalar(stmt.limit(1))

    async def backlog_by_channel(self, team_id: str) -> list[tuple[str, int, int]]:
        """(channel, posts, other calls) still queued per channel, the longest queues first: posts
        are what Slack paces per channel (about 1 a second)."""
        is_post = case((Outbox.method == "chat.postMessage", 1), else_=0)
        rows = await self.session.execute(
            select(Outbox.channel_id, func.sum(is_post), func.count(Outbox.id))
            .where(Outbox.team_id == team_id, Outbox.status.in_(QUEUED), Outbox.channel_id.is_not(None))
            .group_by(Outbox.channel_id)
        )
        found = [
            (str(channel), int(posts or 0), int(total) - int(posts or 0)) for channel, posts, total in rows
        ]
        return sorted(found, key=lambda item: (-item[1], -item[2], item[0]))

    async def stats(self, team_id: str) -> dict[str, Any]:
        pending = and_(Outbox.team_id == team_id, Outbox.status.in_(QUEUED))
        depth, oldest = (
            await self.session.execute(
                select(func.count(Outbox.id), func.min(Outbox.created_at)).where(pending)
            )
        ).one()
        failed = await self.session.scalar(
            select(func.count(Outbox.id)).where(
                Outbox.team_id == team_id, Outbox.status == OutboxStatus.FAILED
            )
        )
        errors = (
            await self.session.execute(
                select(Outbox.method, Outbox.last_error, Outbox.created_at)
                .where(Outbox.team_id == team_id, Outbox.last_error.is_not(None))
                .order_by(Outbox.id.desc())
                .limit(5)
            )
        ).all()
        return {
            "depth": int(depth or 0),
            "oldest_created_at": oldest,
            "failed": int(failed or 0),
            "last_errors": [{"method": m, "error": e, "at": at} for m, e, at in errors],
        }

    async def _queued_for_batch(
        self, batch_id: int, purposes: Sequence[Purpose], *, untried: bool = False
    ) -> Outbox | None:
        """The newest row of these purposes for the batch still waiting to be claimed, locked until
        the transaction ends so no sender claims it meanwhile (SKIP LOCKED on PostgreSQL: a row
        another transaction holds, a sender rendering it, counts as not waiting). `untried`: never
        attempted, so nothing of it can have reached Slack."""
        conditions = [
            Outbox.status == OutboxStatus.PENDING,  # the (status, rank_at, id) index: pending rows only
            Outbox.ref_table == "lead_batch",
            Outbox.ref_id == batch_id,
            Outbox.purpose.in_([p.value for p in purposes]),
        ]
        if untried:
            conditions.append(Outbox.attempts == 0)
        stmt = select(Outbox).where(*conditions).order_by(Outbox.id.desc()).limit(1)
        if dialect_name(self.session) == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return await self.session.scalar(stmt.execution_options(populate_existing=True))

    async def summary_queued(self, batch_id: int) -> bool:
        """A post or update of the batch's summary is still waiting: rendered at send time, it will
        show every lead that joins before then, so a second update would only repeat it."""
        purposes = (Purpose.BULK_SUMMARY, Purpose.BULK_SUMMARY_UPDATE)
        return await self._queued_for_batch(batch_id, purposes) is not None

    async def add_to_queued_lines(self, batch_id: int, lead_ids: Sequence[int], *, per_message: int) -> int:
        """Add leads to the batch's thread message still waiting to go (it has room, and was never
        tried); returns how many of `lead_ids` (from the start) it took. A lead is listed by one
        row only: the row is locked (or skipped) and changed only while still pending."""
        row = await self._queued_for_batch(batch_id, (Purpose.BULK_LINES,), untried=True)
        if row is None:
            return 0
        listed = [int(i) for i in (row.payload or {}).get("lead_ids", [])]
        taken = list(lead_ids[: max(0, per_message - len(listed))])
        if not taken:
            return 0
        result = await self.session.execute(
            update(Outbox)
            .where(Outbox.id == row.id, Outbox.status == OutboxStatus.PENDING, Outbox.attempts == 0)
            .values(payload={**row.payload, "lead_ids": listed + taken})
            .execution_options(synchronize_session=False)
        )
        return len(taken) if affected(result) == 1 else 0


class RuleRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enabled(self, team_id: str) -> list[RoutingRule]:
        """The rules routing reads, in order (through the driver, bot.storage.raw: every lead asks)."""
        raw = raw_sql(self.session)
        codec = raw.codec(RULE)
        rows = await raw.rows(
            f"SELECT {codec.column_list} FROM routing_rule WHERE team_id = ? AND enabled = ? "
            "ORDER BY priority, id",
            (team_id, codec.bind("enabled", True)),
        )
        return [raw.refreshed(RoutingRule, codec.row(row)) for row in rows]

    async def all(self, team_id: str) -> list[RoutingRule]:
        stmt = (
            select(RoutingRule)
            .where(RoutingRule.team_id == team_id)
            .order_by(RoutingRule.priority, RoutingRule.id)
        )
        return list(await self.session.scalars(stmt))

    async def get(self, team_id: str, rule_id: int) -> RoutingRule | None:
        return await self.session.scalar(
            select(RoutingRule).where(RoutingRule.team_id == team_id, RoutingRule.id == rule_id)
        )

    async def get_many(self, rule_ids: Sequence[int]) -> dict[int, RoutingRule]:
        if not rule_ids:
            return {}
        rules = await self.session.scalars(
            select(RoutingRule).where(RoutingRule.id.in_(sorted(set(rule_ids))))
        )
        return {rule.id: rule for rule in rules}

    async def by_name(self, team_id: str, name: str) -> RoutingRule | None:
        return await self.session.scalar(
            select(RoutingRule).where(RoutingRule.team_id == team_id, RoutingRule.name == name)
        )

    async def add(self, rule: RoutingRule) -> RoutingRule:
        self.session.add(rule)
        await self.session.flush()
        return rule

    async def delete(self, rule: RoutingRule) -> None:
        await self.session.delete(rule)
        await self.session.flush()


class MemberRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, team_id: str, user_id: str) -> Member | None:
        return await self.session.scalar(
            select(Member).where(Member.team_id == team_id, Member.user_id == user_id)
        )

    async def upsert(self, team_id: str, user_id: str, *, at: datetime, **values: Any) -> Member:
        member = await self.get(team_id, user_id)
        if member is None:
            member = Member(team_id=team_id, user_id=user_id, away=False, updated_at=at)
            self.session.add(member)
        for key, value in values.items():
            setattr(member, key, value)
        member.updated_at = at
        await self.session.flush()
        return member

    async def away_users(self, team_id: str) -> set[str]:
        raw = raw_sql(self.session)  # every lead's routing asks (bot.storage.raw)
        away = raw.codec(MEMBER).bind("away", True)
        rows = await raw.rows("SELECT user_id FROM member WHERE team_id = ? AND away = ?", (team_id, away))
        return {row[0] for row in rows}

    async def by_side(self, team_id: str, side: str) -> list[str]:
        rows = await self.session.scalars(
            select(Member.user_id).where(Member.team_id == team_id, Member.side == side)
        )
        return list(rows)


ADMINS_KEY = "admins"


class SettingRepo:
    """Workspace overrides of environment defaults, e.g. channels set by admins from Slack."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # a workspace's settings, read in one query on the first get of the transaction (a quick
        # add asks for two, a Home for more); set and delete here forget them
        self._read: dict[str, dict[str, Any]] = {}

    async def get(self, team_id: str, key: str, default: Any = None) -> Any:
        values = self._read.get(team_id)
        if values is None:
            # through the driver (bot.storage.raw): a quick add's first read
            raw = raw_sql(self.session)
            codec = raw.codec(SETTING, ("key", "value"))
            rows = await raw.rows("SELECT key, value FROM workspace_setting WHERE team_id = ?", (team_id,))
            values = self._read[team_id] = {row["key"]: row["value"] for row in map(codec.row, rows)}
        value = values.get(key)
        return default if value is None else value

    async def everywhere(self, key: str) -> dict[str, Any]:
        """{team_id: value} of one setting across workspaces."""
        rows = await self.session.execute(
            select(WorkspaceSetting.team_id, WorkspaceSetting.value).where(WorkspaceSetting.key == key)
        )
        return {team: value for team, value in rows}

    async def reject_reasons(self, team_id: str) -> dict[str, str]:
        """{code: label}, in the order the verdict form offers them; "Other" always among them.
        The one place the `reject_reasons` setting is read."""
        return normalise_reasons(await self.get(team_id, REASONS_KEY))

    async def reason_labels(self, team_id: str) -> dict[str, str]:
        """Every label a stored rejection may need: the offered reasons, then the retired ones
        (a retired reason stays readable in history, exports and the Home's quality table)."""
        offered = await self.reject_reasons(team_id)
        return {**retired_reasons(await self.get(team_id, RETIRED_REASONS_KEY)), **offered}

    async def overrides(self, team_id: str, keys: Iterable[str]) -> dict[str, WorkspaceSetting]:
        """The workspace's rows for these keys, by key (one query for a settings page)."""
        rows = await self.session.scalars(
            select(WorkspaceSetting).where(
                WorkspaceSetting.team_id == team_id, WorkspaceSetting.key.in_(sorted(set(keys)))
            )
        )
        return {row.key: row for row in rows}

    async def delete(self, team_id: str, key: str) -> bool:
        """Back to the environment default; False when nothing was set."""
        self._read.pop(team_id, None)
        row = await self.session.scalar(
            select(WorkspaceSetting).where(WorkspaceSetting.team_id == team_id, WorkspaceSetting.key == key)
        )
        if row is None:
            return False
        await self.session.delete(row)
        await self.session.flush()
        return True

    async def admins(self, team_id: str) -> tuple[str, ...] | None:
        """The workspace's own Handoff admins (its installer, then `/handoff admins`), or None
        when it has none of its own yet. The one place the `admins` setting is read."""
        value = await self.get(team_id, ADMINS_KEY)
        if not isinstance(value, list):
            return None
        return tuple(str(u) for u in value if isinstance(u, str) and u)

    async def set_admins(self, team_id: str, admins: Sequence[str], *, by: str | None, at: datetime) -> None:
        await self.set(team_id, ADMINS_KEY, list(dict.fromkeys(admins)), by=by, at=at)

    async def set(self, team_id: str, key: str, value: Any, *, by: str | None, at: datetime) -> None:
        self._read.pop(team_id, None)
        row = await self.session.scalar(
            select(WorkspaceSetting).where(WorkspaceSetting.team_id == team_id, WorkspaceSetting.key == key)
        )
        if row is None:
            self.session.add(
                WorkspaceSetting(team_id=team_id, key=key, value=value, updated_by=by, updated_at=at)
            )
        else:
            row.value, row.updated_by, row.updated_at = value, by, at
        await self.session.flush()


class SettingAuditRepo:
    """The settings audit log: one row per change, never updated."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, team_id: str, key: str, *, old: str, new: str, by: str | None, at: datetime) -> None:
        self.session.add(SettingAudit(team_id=team_id, key=key, old=old, new=new, by=by, at=at))
        await self.session.flush()

    async def latest(self, team_id: str, limit: int = 20) -> list[SettingAudit]:
        stmt = (
            select(SettingAudit)
            .where(SettingAudit.team_id == team_id)
            .order_by(SettingAudit.at.desc(), SettingAudit.id.desc())
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))


class SlotRepo:
    """Once per schedule slot, across instances: the inserting instance does the work."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, *, team_id: str, job: str, slot: str, instance: str, at: datetime) -> bool:
        values = {"team_id": team_id, "job": job, "slot": slot, "claimed_by": instance, "claimed_at": at}
        return await insert_ignore(self.session, ScheduleSlot, values)

    async def claimed(self, team_id: str, jobs: Iterable[str], slots: Sequence[str]) -> set[tuple[str, str]]:
        """Which (job, slot) pairs some instance already claimed."""
        if not slots:
            return set()
        found: set[tuple[str, str]] = set()
        unique = sorted(set(slots))
        for i in range(0, len(unique), 500):  # keep IN lists a sane size
            rows = await self.session.execute(
                select(ScheduleSlot.job, ScheduleSlot.slot).where(
                    ScheduleSlot.team_id == team_id,
                    ScheduleSlot.job.in_(list(jobs)),
                    ScheduleSlot.slot.in_(unique[i : i + 500]),
                )
            )
            found.update((job, slot) for job, slot in rows)
        return found


class KeyRepo:
    """Processed request keys with expiry (Events API retries, replayed interactions)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def remember(self, *, team_id: str, key: str, at: datetime, ttl: timedelta) -> bool:
        """True the first time a key is seen (until it expires)."""
        values = {"team_id": team_id, "key": key[:200], "created_at": at, "expires_at": at + ttl}
        return await insert_ignore(self.session, ProcessedKey, values)

    async def forget(self, *, team_id: str, key: str) -> None:
        """Undo remember() when handling failed, so a retry is handled rather than skipped."""
        from sqlalchemy import delete

        await self.session.execute(
            delete(ProcessedKey).where(ProcessedKey.team_id == team_id, ProcessedKey.key == key[:200])
        )

    async def purge_expired(self, now: datetime) -> int:
        from sqlalchemy import delete

        result = await self.session.execute(delete(ProcessedKey).where(ProcessedKey.expires_at < now))
        return affected(result)


class InstallationRepo:
    """The workspaces installed through OAuth (slack_sdk's installation store tables)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def team_ids(self) -> list[str]:
        rows = await self.session.execute(select(SLACK_BOTS.c.team_id).distinct())
        return sorted({r[0] for r in rows if r[0]})
