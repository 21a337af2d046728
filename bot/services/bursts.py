"""Is this part of a burst? One-lead requests for a channel that add up, within
HANDOFF_BURST_WINDOW_SECONDS, to more than HANDOFF_BULK_THRESHOLD leads go the bulk way
(bot.domain.bursts): intake asks once per call, with the call's new leads per channel."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from bot.domain.bursts import burst_channels
from bot.services.context import Ctx


async def bursting(
    ctx: Ctx, new: Mapping[str, int], *, already: frozenset[str] = frozenset()
) -> frozenset[str]:
    """The channels of `new` (this call's new leads per channel) in a burst; `already`: channels
    the call brings in bulk by itself, not looked up again. One query, over the window's leads.
    Concurrent requests do not see one another's uncommitted leads, so a burst may start a few
    leads late (they get cards of their own); none is lost or listed twice either way."""
    window = ctx.settings.burst_window_seconds
    asked = {channel: count for channel, count in new.items() if channel not in already}
    if not window or not asked:
        return frozenset()
    since = ctx.now - timedelta(seconds=window)
    recent = await ctx.uow.batches.leads_since(ctx.team_id, list(asked), since)
    return burst_channels(asked, recent, threshold=ctx.settings.bulk_threshold)
