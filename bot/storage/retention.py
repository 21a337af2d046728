"""After the close: customer accounts, follow-ups, insights, referrals, customer signals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Account, CustomerSignal, Followup, Insight, Lead, Referral
from bot.storage.repositories import affected, insert_ignore


class RetentionRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- accounts ---------------------------------------------------------------------------

    async def account_by_key(self, team_id: str, key: str) -> Account | None:
        return await self.session.scalar(
            select(Account).where(Account.team_id == team_id, Account.key == key)
        )

    async def account(self, team_id: str, account_id: int) -> Account | None:
        return await self.session.scalar(
            select(Account).where(Account.team_id == team_id, Account.id == account_id)
        )

    async def add_account(self, values: dict[str, Any]) -> bool:
        """False when a concurrent win made the same account first."""
        return await insert_ignore(self.session, Account, values)

    async def joined(self, team_id: str, account_id: int, now: datetime) -> None:
        await self.session.execute(
            update(Account)
            .where(Account.team_id == team_id, Account.id == account_id)
            .values(won_leads=Account.won_leads + 1, updated_at=now)
        )

    async def set_owner(self, team_id: str, account_id: int, owner_id: str, now: datetime) -> None:
        await self.session.execute(
            update(Account)
            .where(Account.team_id == team_id, Account.id == account_id)
            .values(owner_id=owner_id, updated_at=now)
        )

    async def accounts(self, team_id: str, limit: int = 50, *, owner_id: str | None = None) -> list[Account]:
        stmt = select(Account).where(Account.team_id == team_id)
        if owner_id is not None:
            stmt = stmt.where(Account.owner_id == owner_id)
        return list(await self.session.scalars(stmt.order_by(Account.company, Account.id).limit(limit)))

    async def search_accounts(self, team_id: str, query: str, limit: int = 20) -> list[Account]:
        like = f"%{query.lower().replace('%', '').replace('_', '')}%"
        stmt = (
            select(Account)
            .where(
                Account.team_id == team_id,
                or_(func.lower(Account.company).like(like), func.lower(Account.domain).like(like)),
            )
            .order_by(Account.company, Account.id)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))

    # -- follow-ups -------------------------------------------------------------------------

    async def add_followup(self, followup: Followup) -> Followup:
        self.session.add(followup)
        await self.session.flush()
        return followup

    async def due_followups(self, team_id: str, now: datetime, limit: int = 200) -> list[Followup]:
        return list(
            await self.session.scalars(
                select(Followup)
                .where(Followup.team_id == team_id, Followup.sent_at.is_(None), Followup.due_at <= now)
                .order_by(Followup.due_at, Followup.id)
                .limit(limit)
            )
        )

    async def claim_followup(self, team_id: str, followup_id: int, now: datetime) -> bool:
        """Compare-and-set: true for exactly one instance, however many run."""
        result = await self.session.execute(
            update(Followup)
            .where(Followup.team_id == team_id, Followup.id == followup_id, Followup.sent_at.is_(None))
            .values(sent_at=now)
        )
        return affected(result) == 1

    async def upcoming_followups(self, team_id: str, user_id: str, limit: int = 10) -> list[Followup]:
        return list(
            await self.session.scalars(
                select(Followup)
                .where(Followup.team_id == team_id, Followup.user_id == user_id, Followup.sent_at.is_(None))
                .order_by(Followup.due_at, Followup.id)
                .limit(limit)
            )
        )

    # -- insights ---------------------------------------------------------------------------

    async def add_insight(self, insight: Insight) -> Insight:
        self.session.add(insight)
        await self.session.flush()
        return insight

    async def insights_since(self, team_id: str, since: datetime, until: datetime) -> list[Insight]:
        return list(
            await self.session.scalars(
                select(Insight)
                .where(Insight.team_id == team_id, Insight.created_at >= since, Insight.created_at < until)
                .order_by(Insight.created_at)
            )
        )

    # -- referrals --------------------------------------------------------------------------

    async def add_referral(self, values: dict[str, Any]) -> bool:
        return await insert_ignore(self.session, Referral, values)

    async def referral_stats(self, team_id: str, since: datetime, until: datetime) -> tuple[int, int, int]:
        """(referrals made, won, closed) for referrals made in [since, until)."""
        row = (
            await self.session.execute(
                select(
                    func.count(Referral.id),
                    func.count(Lead.won_at),
                    func.count(Lead.won_at) + func.count(Lead.lost_at),
                )
                .select_from(Referral)
                .join(Lead, (Lead.id == Referral.lead_id) & (Lead.team_id == Referral.team_id))
                .where(Referral.team_id == team_id, Referral.created_at >= since, Referral.created_at < until)
            )
        ).one()
        return int(row[0]), int(row[1]), int(row[2])

    # -- customer signals -------------------------------------------------------------------

    async def add_signal(self, signal: CustomerSignal) -> CustomerSignal:
        self.session.add(signal)
        await self.session.flush()
        return signal

    async def signal(self, team_id: str, signal_id: int) -> CustomerSignal | None:
        return await self.session.scalar(
            select(CustomerSignal).where(CustomerSignal.team_id == team_id, CustomerSignal.id == signal_id)
        )

    async def held_signals(self, team_id: str, before: datetime, limit: int = 500) -> list[CustomerSignal]:
        """Signals held for a batch that arrived before `before`, oldest first."""
        return list(
            await self.session.scalars(
                select(CustomerSignal)
                .where(
                    CustomerSignal.team_id == team_id,
                    CustomerSignal.sent_at.is_(None),
                    CustomerSignal.created_at < before,
                )
                .order_by(CustomerSignal.created_at, CustomerSignal.id)
                .limit(limit)
            )
        )

    async def claim_signal(self, team_id: str, signal_id: int, now: datetime) -> bool:
        """Compare-and-set on sent_at: one instance sends each held signal."""
        result = await self.session.execute(
            update(CustomerSignal)
            .where(
                CustomerSignal.team_id == team_id,
                CustomerSignal.id == signal_id,
                CustomerSignal.sent_at.is_(None),
            )
            .values(sent_at=now)
        )
        return affected(result) == 1

    async def signals_for_owner(self, team_id: str, owner_id: str, since: datetime) -> int:
        return int(
            await self.session.scalar(
                select(func.count(CustomerSignal.id)).where(
                    CustomerSignal.team_id == team_id,
                    CustomerSignal.owner_id == owner_id,
                    CustomerSignal.created_at >= since,
                )
            )
            or 0
        )

    async def answer_signal(
        self, team_id: str, signal_id: int, *, outcome: str, by: str, reason: str | None, now: datetime
    ) -> bool:
        result = await self.session.execute(
            update(CustomerSignal)
            .where(
                CustomerSignal.team_id == team_id,
                CustomerSignal.id == signal_id,
                CustomerSignal.outcome.is_(None),
            )
            .values(outcome=outcome, outcome_by=by, reason=reason, outcome_at=now)
        )
        return affected(result) == 1

    async def refresh(self, row: object) -> None:
        await self.session.refresh(row)

    async def signals_since(self, team_id: str, since: datetime, until: datetime) -> list[CustomerSignal]:
        return list(
            await self.session.scalars(
                select(CustomerSignal).where(
                    CustomerSignal.team_id == team_id,
                    CustomerSignal.created_at >= since,
                    CustomerSignal.created_at < until,
                )
            )
        )
