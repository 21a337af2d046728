"""Field insights: a rep passes what a customer or prospect said to marketing, tagged and linked to
the lead or customer; marketing sees the week's top tags (Home, digest, partnership prompts)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import messages
from bot.domain.accounts import account_key
from bot.domain.errors import InvalidInput
from bot.domain.insights import parse_insight, top_tags
from bot.domain.periods import Window
from bot.services.context import Ctx
from bot.services.lifecycle import load_lead
from bot.slack.blocks.insights import insight_message
from bot.storage.models import Insight
from bot.storage.uow import UnitOfWork


async def share(
    ctx: Ctx,
    *,
    author_id: str,
    text: str,
    tags: str = "",
    lead_id: int | None = None,
    permalink: str | None = None,
) -> Insight:
    """Store the insight and post it to the marketing channel, in one transaction."""
    parsed = parse_insight(text, tags)
    if parsed is None:
        raise InvalidInput({"text": messages.INSIGHT_USAGE})
    channel = await ctx.channel_setting("marketing_channel")
    if not channel:
        raise InvalidInput({"text": messages.INSIGHT_NO_CHANNEL})
    lead = await load_lead(ctx, lead_id) if lead_id is not None else None
    account = None
    if lead is not None and (key := account_key(company=lead.company, email=lead.email)):
        account = await ctx.uow.retention.account_by_key(ctx.team_id, key)
    member = await ctx.uow.members.get(ctx.team_id, author_id)
    insight = await ctx.uow.retention.add_insight(
        Insight(
            team_id=ctx.team_id,
            author_id=author_id,
            side=member.side if member else None,
            text=parsed.text,
            tags=list(parsed.tags),
            lead_id=lead.id if lead else None,
            account_id=account.id if account else None,
            permalink=permalink,
            created_at=ctx.now,
        )
    )
    fallback, blocks = insight_message(insight, lead=lead, account=account)
    await ctx.notifier.post(ctx.team_id, channel, fallback, blocks, lead_id=insight.lead_id)
    return insight


async def week_tags(
    uow: UnitOfWork, team_id: str, now: datetime, limit: int = 5
) -> tuple[int, list[tuple[str, int]]]:
    """(insights shared in the last 7 days, their top tags)."""
    found = await uow.retention.insights_since(team_id, now - timedelta(days=7), now)
    return len(found), top_tags((i.tags or [] for i in found), limit)


async def digest_section(uow: UnitOfWork, team_id: str, week: Window) -> str | None:
    """The weekly digest's section: the week's insights and their top tags."""
    found = await uow.retention.insights_since(team_id, week.start, week.end)
    if not found:
        return None
    tags = top_tags(i.tags or [] for i in found)
    shown = ", ".join(f"#{tag} ({n})" for tag, n in tags) or "no tags"
    return messages.INSIGHTS_TOP.format(count=len(found), tags=shown)
