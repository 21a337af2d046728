"""Lead-API tokens (table `api_token`): found by key ID, listed and revoked per workspace."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ApiToken
from bot.storage.repositories import affected


class ApiTokenRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, token: ApiToken) -> ApiToken:
        self.session.add(token)
        await self.session.flush()
        return token

    async def by_key_id(self, key_id: str) -> ApiToken | None:
        """The token with this key ID, revoked or not (the caller checks)."""
        return await self.session.scalar(select(ApiToken).where(ApiToken.key_id == key_id))

    async def active(self, team_id: str, name: str) -> ApiToken | None:
        return await self.session.scalar(
            select(ApiToken).where(
                ApiToken.team_id == team_id, ApiToken.name == name, ApiToken.revoked_at.is_(None)
            )
        )

    async def for_team(self, team_id: str) -> list[ApiToken]:
        """Active tokens first, each group oldest first."""
        rows = await self.session.scalars(
            select(ApiToken)
            .where(ApiToken.team_id == team_id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at, ApiToken.id)
        )
        return list(rows)

    async def revoke(self, token_id: int, *, at: datetime) -> bool:
        result = await self.session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return affected(result) > 0

    async def touch(self, token_id: int, *, at: datetime, every: timedelta) -> bool:
        """Record a use, unless one was recorded less than `every` ago (by any instance)."""
        result = await self.session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= at - every),
            )
            .values(last_used_at=at)
        )
        return affected(result) > 0
