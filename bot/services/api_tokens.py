"""Workspace tokens for the lead API: made (shown once), listed and revoked by admins, from Slack
or the `handoff tokens` command. Each is bound to the workspace it was made in."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.api_tokens import name_problem, new_token
from bot.domain.errors import HandoffError, InvalidInput, NotFound
from bot.services.context import Ctx
from bot.storage.models import ApiToken
from bot.storage.uow import Conflict


class TokenNameTaken(HandoffError):
    def __init__(self, name: str) -> None:
        super().__init__(f"A token named “{name}” is already active; revoke it first or pick another name.")
        self.name = name


@dataclass(frozen=True)
class CreatedToken:
    """The row, and the token itself: the only time anyone sees it."""

    row: ApiToken
    token: str


async def create_token(ctx: Ctx, name: str, *, by: str | None) -> CreatedToken:
    name = name.strip()
    problem = name_problem(name)
    if problem is not None:
        raise InvalidInput({"name": problem})
    if await ctx.uow.api_tokens.active(ctx.team_id, name) is not None:
        raise TokenNameTaken(name)
    made = new_token()
    row = ApiToken(
        team_id=ctx.team_id,
        name=name,
        key_id=made.key_id,
        token_hash=made.token_hash,
        created_by=by,
        created_at=ctx.now,
    )
    try:
        async with ctx.uow.savepoint():
            await ctx.uow.api_tokens.add(row)
    except Conflict:  # made meanwhile by someone else (or, once in 2^48, the same key ID)
        raise TokenNameTaken(name) from None
    return CreatedToken(row=row, token=made.token)


async def list_tokens(ctx: Ctx) -> list[ApiToken]:
    return await ctx.uow.api_tokens.for_team(ctx.team_id)


async def revoke_token(ctx: Ctx, name: str) -> ApiToken:
    """Revoke the workspace's active token of that name; it stops working at once."""
    row = await ctx.uow.api_tokens.active(ctx.team_id, name.strip())
    if row is None or not await ctx.uow.api_tokens.revoke(row.id, at=ctx.now):
        raise NotFound(f"There is no active token “{name.strip()}”. `/handoff tokens list` shows them.")
    return row
