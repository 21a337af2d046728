"""Repositories for the core tables; every query is scoped by team_id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    SLA_CLOCK_FIELDS,
    Lead,
    LeadEvent,
    Member,
    Outbox,
    ProcessedKey,
    RoutingRule,
    ScheduleSlot,
    WorkspaceSetting,
    sla_check_after_move,
)


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def insert_ignore(session: AsyncSession, model: type, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on either database; True when this call inserted."""
    insert = postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    result = await session.execute(insert(model).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)


def _with_sla_check(values: dict[str, Any]) -> dict[str, Any]:
    """A move that (re)starts or stops an SLA clock sets lead.sla_check_at in the same statement."""
    if "sla_check_at" in values or not SLA_CLOCK_FIELDS.intersection(values):
        return values
    at = values.get("updated_at", Lead.created_at)  # either way: judged at the next SLA pass
    return {**values, "sla_check_at": sla_check_after_move(values.get("status"), at)}


class LeadRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, team_id: str, lead_id: int) -> Lead | None:
        return await self.session.scalar(select(Lead).where(Lead.team_id == team_id, Lead.id == lead_id))

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
        return result.rowcount == 1

    async def set_if(
        self, team_id: str, lead_id: int, *, expected: Sequence[str], values: dict[str, Any]
    ) -> Lead | None:
        """compare_and_set that also returns the updated lead (UPDATE ... RETURNING: one round
        trip instead of an UPDATE and a SELECT); None when the lead was not in `expected`."""
        stmt = (
            update(Lead)
            .where(Lead.team_id == team_id, Lead.id == lead_id, Lead.status.in_(list(expected)))
            .values(**_with_sla_check(values))
            .returning(Lead)
            .execution_options(synchronize_session=False)
        )
        return await self.session.scalar(stmt)

    async def refresh(self, lead: Lead) -> Lead:
        await self.session.refresh(lead)
        return lead

    async def set_message(self, team_id: str, lead_id: int, *, channel_id: str, ts: str) -> None:
        await self.session.execute(
            update(Lead)
            .where(Lead.team_id == team_id, Lead.id == lead_id)
            .values(channel_id=channel_id, message_ts=ts)
            .execution_options(synchronize_session=False)
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
    ) -> LeadEvent:
        event = LeadEvent(
            team_id=team_id,
            lead_id=lead_id,
            kind=kind,
            actor_id=actor_id,
            origin=origin,
            data=data or {},
            created_at=at,
        )
        self.session.add(event)  # written by the next flush: with the outbox row, or at commit
        return event

    async def for_lead(self, team_id: str, lead_id: int) -> list[LeadEvent]:
        stmt = (
            select(LeadEvent)
            .where(LeadEvent.team_id == team_id, LeadEvent.lead_id == lead_id)
            .order_by(LeadEvent.created_at, LeadEvent.id)
        )
        return list(await self.session.scalars(stmt))


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        team_id: str,
        method: str,
        payload: dict[str, Any],
        at: datetime,
        channel_id: str | None = None,
        purpose: str = "message",
        lead_id: int | None = None,
        ref_table: str | None = None,
        ref_id: int | None = None,
    ) -> Outbox:
        row = Outbox(
            team_id=team_id,
            method=method,
            channel_id=channel_id,
            payload=payload,
            purpose=purpose,
            lead_id=lead_id,
            ref_table=ref_table,
            ref_id=ref_id,
            status="pending",
            attempts=0,
            next_attempt_at=at,
            created_at=at,
        )
        self.session.add(row)  # written by the next flush: one for all of a transaction's rows
        return row

    async def claim_due(
        self,
        *,
        now: datetime,
        instance: str,
        lease: timedelta,
        limit: int,
        skip_channels: Sequence[str] = (),
    ) -> list[Outbox]:
        """Take due rows for this instance: pending ones, and 'sending' ones whose lease ran out;
        none for `skip_channels` (the sender's queue for them is full already)."""
        due = or_(
            and_(Outbox.status == "pending", Outbox.next_attempt_at <= now),
            and_(Outbox.status == "sending", Outbox.claimed_until < now),
        )
        if skip_channels:
            due = and_(due, or_(Outbox.channel_id.is_(None), Outbox.channel_id.not_in(list(skip_channels))))
        stmt = select(Outbox).where(due).order_by(Outbox.id).limit(limit)
        if dialect_name(self.session) == "postgresql":
            # several instances: each takes rows the others have not locked
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list(await self.session.scalars(stmt))
        for row in rows:
            if row.status == "sending":
                # the instance that held it died or stalled: it may have posted before it stopped,
                # so the sender looks for the message before posting again
                row.last_error = "lease expired"  # bot.slack.outbox.LEASE_EXPIRED
            row.status = "sending"
            row.claimed_by = instance
            row.claimed_until = now + lease
            row.attempts += 1
        await self.session.flush()
        return rows

    async def get(self, row_id: int) -> Outbox | None:
        return await self.session.get(Outbox, row_id)

    async def requeue_failed(self, team_id: str, *, now: datetime) -> int:
        """Put the workspace's given-up deliveries back in the queue, due now, with a fresh count
        of attempts; returns how many. Alerts about failures are not re-sent (they are stale).
        A row tried more than once may have reached Slack without us hearing back, so it keeps
        one attempt: the sender then looks for it before posting (never the same row twice)."""
        failed = and_(Outbox.team_id == team_id, Outbox.status == "failed", Outbox.purpose != "alert")
        values = {"status": "pending", "next_attempt_at": now, "claimed_by": None, "claimed_until": None}
        total = 0
        for condition, attempts in ((Outbox.attempts <= 1, 0), (Outbox.attempts > 1, 1)):
            result = await self.session.execute(
                update(Outbox)
                .where(failed, condition)
                .values(**values, attempts=attempts)
                .execution_options(synchronize_session=False)
            )
            total += int(getattr(result, "rowcount", 0) or 0)
        return total

    async def pending_card_post(self, lead_id: int) -> Outbox | None:
        stmt = select(Outbox).where(
            Outbox.lead_id == lead_id,
            Outbox.purpose == "lead_card",
            Outbox.status.in_(["pending", "sending"]),
        )
        return await self.session.scalar(stmt.limit(1))

    async def stats(self, team_id: str) -> dict[str, Any]:
        pending = and_(Outbox.team_id == team_id, Outbox.status.in_(["pending", "sending"]))
        depth, oldest = (
            await self.session.execute(
                select(func.count(Outbox.id), func.min(Outbox.created_at)).where(pending)
            )
        ).one()
        failed = await self.session.scalar(
            select(func.count(Outbox.id)).where(Outbox.team_id == team_id, Outbox.status == "failed")
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


class RuleRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enabled(self, team_id: str) -> list[RoutingRule]:
        stmt = (
            select(RoutingRule)
            .where(RoutingRule.team_id == team_id, RoutingRule.enabled.is_(True))
            .order_by(RoutingRule.priority, RoutingRule.id)
        )
        return list(await self.session.scalars(stmt))

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

    async def advance_cursor(self, team_id: str, rule_id: int) -> int:
        """Atomically take the next round-robin position (safe across instances)."""
        await self.session.execute(
            update(RoutingRule)
            .where(RoutingRule.team_id == team_id, RoutingRule.id == rule_id)
            .values(rr_cursor=RoutingRule.rr_cursor + 1)
            .execution_options(synchronize_session=False)
        )
        cursor = await self.session.scalar(
            select(RoutingRule.rr_cursor).where(RoutingRule.team_id == team_id, RoutingRule.id == rule_id)
        )
        return int(cursor or 0) - 1


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
        rows = await self.session.scalars(
            select(Member.user_id).where(Member.team_id == team_id, Member.away.is_(True))
        )
        return set(rows)

    async def by_side(self, team_id: str, side: str) -> list[str]:
        rows = await self.session.scalars(
            select(Member.user_id).where(Member.team_id == team_id, Member.side == side)
        )
        return list(rows)


class SettingRepo:
    """Workspace overrides of environment defaults, e.g. channels set by admins from Slack."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, team_id: str, key: str, default: Any = None) -> Any:
        value = await self.session.scalar(
            select(WorkspaceSetting.value).where(
                WorkspaceSetting.team_id == team_id, WorkspaceSetting.key == key
            )
        )
        return default if value is None else value

    async def set(self, team_id: str, key: str, value: Any, *, by: str | None, at: datetime) -> None:
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


class SlotRepo:
    """Once per schedule slot, across instances: the inserting instance does the work."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, *, team_id: str, job: str, slot: str, instance: str, at: datetime) -> bool:
        values = {"team_id": team_id, "job": job, "slot": slot, "claimed_by": instance, "claimed_at": at}
        return await insert_ignore(self.session, ScheduleSlot, values)


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
        return int(result.rowcount or 0)
