"""Each workspace's Handoff admins: the installer is the first; admins add and remove others.

HANDOFF_ADMINS is the default for a workspace that has no list of its own (a single workspace, or
one installed before lists existed); the first change writes the workspace's own list, starting
from whoever is admin at that moment.
"""

from __future__ import annotations

from bot import messages
from bot.domain.errors import InvalidInput
from bot.services import setup_checklist
from bot.services.context import Admins, Ctx


async def list_admins(ctx: Ctx) -> Admins:
    return await ctx.admins()


async def add_admin(ctx: Ctx, *, by: str, user_id: str) -> bool:
    """False when `user_id` already is one."""
    admins = await ctx.admins()
    await ctx.require_admin(by)
    if user_id in admins:
        return False
    await ctx.uow.settings.set_admins(ctx.team_id, [*admins.user_ids, user_id], by=by, at=ctx.now)
    await setup_checklist.refresh(ctx)
    return True


async def remove_admin(ctx: Ctx, *, by: str, user_id: str) -> bool:
    """False when `user_id` is no admin. The last admin stays: a workspace never locks itself out."""
    admins = await ctx.admins()
    await ctx.require_admin(by)
    if user_id not in admins:
        return False
    rest = [a for a in admins.user_ids if a != user_id]
    if not rest:
        raise InvalidInput({"user": messages.ADMINS_LAST_ONE})
    await ctx.uow.settings.set_admins(ctx.team_id, rest, by=by, at=ctx.now)
    return True


async def installed_by(ctx: Ctx, user_id: str) -> bool:
    """The person who installed Handoff in a workspace becomes its first admin (a reinstall
    changes nothing once the workspace has admins of its own)."""
    if not user_id or await ctx.uow.settings.admins(ctx.team_id) is not None:
        return False
    await ctx.uow.settings.set_admins(ctx.team_id, [user_id], by=user_id, at=ctx.now)
    return True
