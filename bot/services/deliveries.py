"""Deliveries Handoff gave up on (the outbox's failed rows): admins send them again once the cause
is fixed (a channel re-created, the bot invited back)."""

from __future__ import annotations

from bot.services.context import Ctx


async def retry_failed(ctx: Ctx) -> int:
    """Queue the workspace's failed deliveries again, due now; returns how many. The sender renders
    cards at send time, so a re-queued card shows the lead as it is now."""
    return await ctx.uow.outbox.requeue_failed(ctx.team_id, now=ctx.now)
