"""App Home: what each person needs to see — their open leads, lead quality, shared targets."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import Settings
from bot.domain.numbers import QualityReport
from bot.domain.views import HomeData
from bot.services import retention
from bot.services.business_calendar import load_calendar
from bot.services.context import load_admins
from bot.services.sla import load_policy
from bot.services.targets import build_scoreboard
from bot.storage.uow import UnitOfWork

PAGE_SIZE = 10
QUALITY_WINDOWS = (30, 90)
HOME_CUSTOMERS = 15  # customers listed on Home


class QualityCache:
    """Lead quality over 30 and 90 days moves slowly, and it is the one Home query that reads a
    whole quarter of leads; each instance keeps a team's report for `ttl` (one per Handoff)."""

    def __init__(self, ttl: timedelta = timedelta(minutes=5)) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[datetime, QualityReport]] = {}

    async def get(self, uow: UnitOfWork, team_id: str, now: datetime) -> QualityReport:
        hit = self._entries.get(team_id)
        if hit is not None and timedelta(0) <= now - hit[0] < self.ttl:
            return hit[1]
        report = await uow.reports.lead_quality(team_id, now, QUALITY_WINDOWS)
        self._entries[team_id] = (now, report)
        return report


async def build_home(
    uow: UnitOfWork,
    settings: Settings,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    page: int = 0,
    page_size: int = PAGE_SIZE,
    quality_cache: QualityCache | None = None,
) -> HomeData:
    """Reps see their open leads; marketing (and admins) see lead quality; everyone sees targets.
    Someone Handoff knows nothing about sees both, so a new install is never an empty page."""
    member = await uow.members.get(team_id, user_id)
    side = member.side if member else None
    is_admin = user_id in await load_admins(uow, settings, team_id)
    # the workspace's calendar and thresholds (and each lead's routing rule), as the SLA job uses
    policy = await load_policy(uow, settings, team_id)
    reps = {rep for rule in policy.rules.values() for rep in (rule.reps or [])}
    page = max(0, page)
    leads, total = await uow.reports.open_leads_for(
        team_id, user_id, limit=page_size, offset=page * page_size
    )
    if page and not leads and total:  # the page emptied since the button was drawn
        page = (total - 1) // page_size
        leads, total = await uow.reports.open_leads_for(
            team_id, user_id, limit=page_size, offset=page * page_size
        )
    show_rep = side == "sales" or user_id in reps or total > 0 or side is None
    show_marketing = side == "marketing" or is_admin or side is None
    quality = None
    reasons: dict[str, str] = {}
    if show_marketing:
        reasons = await uow.settings.reason_labels(team_id)
        quality = (
            await quality_cache.get(uow, team_id, now)
            if quality_cache is not None
            else await uow.reports.lead_quality(team_id, now, QUALITY_WINDOWS)
        )
    calendar = await load_calendar(uow, settings, team_id)
    board = await build_scoreboard(uow, team_id, now, calendar.tz, calendar)
    after_close = await retention.last_week(uow, team_id, now)
    # more than Home shows: the handler drops those the person may not see (lead_access), then trims
    customers = await uow.retention.accounts(
        team_id, HOME_CUSTOMERS * 3, owner_id=None if show_marketing else user_id
    )
    return HomeData(
        user_id=user_id,
        now=now,
        show_rep=show_rep,
        show_marketing=show_marketing,
        scoreboard=board,
        open_leads=[policy.open_lead(lead, now) for lead in leads],
        open_total=total,
        page=page,
        page_size=page_size,
        quality=quality,
        reasons=reasons,
        is_admin=is_admin,
        retention=after_close,
        customers=customers,
    )
