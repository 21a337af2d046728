"""Routing's storage: each rule's distribution state (cursor, virtual time, per-rep loads) read and
written under the rule's row lock, the stored decisions, and what availability and account
matching read (member profiles, owned accounts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Lead, Member, RepLoad, RoutingDecision, RoutingRule
from bot.storage.raw import raw_sql


class RoutingRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_rule(self, team_id: str, rule_id: int) -> tuple[int, float] | None:
        """Take the rule's row lock for the rest of the transaction (a no-op UPDATE: a row lock on
        PostgreSQL, and SQLite's transactions are BEGIN IMMEDIATE anyway), then read its cursor and
        virtual time. Callers lock rules in id order, so two batches never wait on each other."""
        await self.session.execute(
            update(RoutingRule)
            .where(RoutingRule.team_id == team_id, RoutingRule.id == rule_id)
            .values(rr_cursor=RoutingRule.rr_cursor)
            .execution_options(synchronize_session=False)
        )
        row = (
            await self.session.execute(
                select(RoutingRule.rr_cursor, RoutingRule.virtual_time).where(
                    RoutingRule.team_id == team_id, RoutingRule.id == rule_id
                )
            )
        ).first()
        if row is None:
            return None
        return int(row[0] or 0), float(row[1] or 0.0)

    async def loads(self, team_id: str, rule_id: int) -> list[RepLoad]:
        return list(
            await self.session.scalars(
                select(RepLoad).where(RepLoad.team_id == team_id, RepLoad.rule_id == rule_id)
            )
        )

    async def save_rule(self, team_id: str, rule_id: int, *, cursor: int, virtual_time: float) -> None:
        await self.session.execute(
            update(RoutingRule)
            .where(RoutingRule.team_id == team_id, RoutingRule.id == rule_id)
            .values(rr_cursor=cursor, virtual_time=virtual_time)
            .execution_options(synchronize_session=False)
        )

    async def save_loads(
        self, team_id: str, rule_id: int, values: Mapping[str, dict[str, Any]], *, at: datetime
    ) -> None:
        """Write the reps' new counts (the caller holds the rule's lock: no one else writes them)."""
        if not values:
            return
        stored = {
            row.user_id: row.id
            for row in await self.session.execute(
                select(RepLoad.user_id, RepLoad.id).where(
                    RepLoad.team_id == team_id,
                    RepLoad.rule_id == rule_id,
                    RepLoad.user_id.in_(sorted(values)),
                )
            )
        }
        new = []
        for user_id, row in values.items():
            if user_id in stored:
                await self.session.execute(
                    update(RepLoad)
                    .where(RepLoad.id == stored[user_id])
                    .values(**row, updated_at=at)
                    .execution_options(synchronize_session=False)
                )
            else:
                new.append(
                    {"team_id": team_id, "rule_id": rule_id, "user_id": user_id, **row, "updated_at": at}
                )
        if new:
            await self.session.execute(insert(RepLoad), new)

    async def forget_rule(self, team_id: str, rule_id: int) -> None:
        """A removed rule's counts go with it (its decisions stay: they explain past leads)."""
        await self.session.execute(
            delete(RepLoad).where(RepLoad.team_id == team_id, RepLoad.rule_id == rule_id)
        )

    async def add_decisions(self, rows: Sequence[dict[str, Any]]) -> None:
        await raw_sql(self.session).insert_many(RoutingDecision.__table__, rows)  # every new lead

    async def decision(self, team_id: str, lead_id: int) -> RoutingDecision | None:
        return await self.session.scalar(
            select(RoutingDecision).where(
                RoutingDecision.team_id == team_id, RoutingDecision.lead_id == lead_id
            )
        )

    async def decisions(self, team_id: str, lead_ids: Sequence[int]) -> dict[int, RoutingDecision]:
        if not lead_ids:
            return {}
        rows = await self.session.scalars(
            select(RoutingDecision).where(
                RoutingDecision.team_id == team_id, RoutingDecision.lead_id.in_(list(lead_ids))
            )
        )
        return {row.lead_id: row for row in rows}

    async def decisions_since(self, team_id: str, since: datetime) -> list[RoutingDecision]:
        return list(
            await self.session.scalars(
                select(RoutingDecision)
                .where(RoutingDecision.team_id == team_id, RoutingDecision.created_at >= since)
                .order_by(RoutingDecision.created_at, RoutingDecision.id)
            )
        )

    async def recent_leads(self, team_id: str, limit: int) -> list[Lead]:
        """The last `limit` leads, oldest first (what `/handoff route simulate` replays)."""
        rows = list(
            await self.session.scalars(
                select(Lead)
                .where(Lead.team_id == team_id)
                .order_by(Lead.created_at.desc(), Lead.id.desc())
                .limit(limit)
            )
        )
        rows.reverse()
        return rows

    async def owned_accounts(self, team_id: str) -> list[tuple[int, str | None, str | None, str]]:
        """(id, company, domain, owner) of every account with an owner: what routing matches."""
        rows = await raw_sql(self.session).rows(  # every lead's routing asks (bot.storage.raw)
            "SELECT id, company, domain, owner_id FROM account WHERE team_id = ? AND owner_id IS NOT NULL",
            (team_id,),
        )
        return [(int(r[0]), r[1], r[2], str(r[3])) for r in rows]

    async def members(self, team_id: str, user_ids: Sequence[str]) -> list[Member]:
        if not user_ids:
            return []
        return list(
            await self.session.scalars(
                select(Member).where(Member.team_id == team_id, Member.user_id.in_(sorted(set(user_ids))))
            )
        )

    async def stale_members(self, team_id: str, user_ids: Sequence[str], *, before: datetime) -> list[str]:
        """Of `user_ids`, those whose Slack profile was never read or read before `before`."""
        fresh = {
            m.user_id
            for m in await self.members(team_id, user_ids)
            if m.profile_at is not None and m.profile_at >= before
        }
        return sorted(set(user_ids) - fresh)
