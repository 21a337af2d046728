"""The outbox's queue in view (issue 14, item 6): each channel's backlog and how long it takes to
send at Slack's rate, for `/handoff status`; and one alert to the admins when a backlog would take
longer than HANDOFF_BACKLOG_ALERT_MINUTES to drain (one per backlog, not one per lead)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import messages
from bot.slack.mrkdwn import channel_link, mention
from bot.storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.services.runtime import Runtime

JOB_NAME = "outbox_backlog"
EVERY = timedelta(minutes=1)
ALERTED_KEY = "outbox_backlog_alerted"  # workspace_setting: the channels the admins have heard about


@dataclass(frozen=True)
class ChannelBacklog:
    channel_id: str
    posts: int  # chat.postMessage calls queued: Slack allows about `rate` a second per channel
    others: int  # updates and the rest (paced per workspace by Slack's tiers)
    drain: timedelta  # the posts at the channel's rate

    @property
    def total(self) -> int:
        return self.posts + self.others


async def channel_backlogs(uow: UnitOfWork, team_id: str, rate: float) -> list[ChannelBacklog]:
    """Every channel with something queued, the longest drain first."""
    return [
        ChannelBacklog(channel, posts, others, timedelta(seconds=posts / rate))
        for channel, posts, others in await uow.outbox.backlog_by_channel(team_id)
    ]


def drain_text(drain: timedelta) -> str:
    seconds = int(drain.total_seconds())
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def backlog_line(item: ChannelBacklog, rate: float) -> str:
    return messages.STATUS_CHANNEL_BACKLOG.format(
        channel=mention(item.channel_id) if item.channel_id[:1] in "UW" else channel_link(item.channel_id),
        count=item.total,
        drain=drain_text(item.drain),
        rate=f"{rate:g}",
    )


async def check_backlog(handoff: Runtime, team_id: str, now: datetime) -> list[str]:
    """The minute job: alert the admins once about each channel whose backlog would take longer
    than the limit to drain; a channel is forgotten once its backlog is under half the limit, so
    the next backlog there alerts again. Returns the channels alerted about now."""
    settings = handoff.settings
    limit = timedelta(minutes=settings.backlog_alert_minutes)
    async with handoff.open_context(team_id) as ctx:
        backlogs = {b.channel_id: b for b in await channel_backlogs(ctx.uow, team_id, settings.channel_rate)}
        stored = await ctx.uow.settings.get(team_id, ALERTED_KEY)
        alerted = {str(c) for c in stored} if isinstance(stored, list) else set()
        over = {c for c, b in backlogs.items() if b.drain > limit}
        still = {c for c in alerted if c in backlogs and backlogs[c].drain > limit / 2}
        new = sorted(over - alerted)
        if new:
            lines = [backlog_line(backlogs[c], settings.channel_rate) for c in new]
            text = messages.BACKLOG_ALERT.format(
                minutes=f"{settings.backlog_alert_minutes:g}", channels="\n".join(lines)
            )
            await ctx.notifier.alert_admins(team_id, text)
        remembered = sorted(still | set(new))
        if remembered != sorted(alerted):
            await ctx.uow.settings.set(team_id, ALERTED_KEY, remembered, by=None, at=now)
    return new
