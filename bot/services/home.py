"""App Home: what each person needs to see — their open leads, lead quality, shared targets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Settings
from bot.services.targets import Scoreboard, build_scoreboard
from bot.storage.metrics import QualityReport, lead_quality, open_leads_for
from bot.storage.models import Lead
from bot.storage.uow import UnitOfWork

# -- SLA seam ---------------------------------------------------------------------------------
# bot/domain/sla.py (the feedback issue) computes SLA deadlines. Plug it in here: a SlaClock
# returns the text to show for the lead's current step ("verdict due in 2 h", "overdue by 1 day"),
# or None when no SLA applies. Until then Home shows the time since the lead last changed.
SlaClock = Callable[[Lead, datetime], str | None]


def no_sla_clock(lead: Lead, now: datetime) -> str | None:
    return None


PAGE_SIZE = 10
QUALITY_WINDOWS = (30, 90)


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
        report = await lead_quality(uow.session, team_id, now, QUALITY_WINDOWS)
        self._entries[team_id] = (now, report)
        return report


@dataclass
class HomeData:
    user_id: str
    now: datetime
    show_rep: bool
    show_marketing: bool
    scoreboard: Scoreboard
    open_leads: list[tuple[Lead, str | None]]  # with the SLA clock's text, if any
    open_total: int
    page: int
    page_size: int
    quality: QualityReport | None

    @property
    def pages(self) -> int:
        return max(1, -(-self.open_total // self.page_size))


async def build_home(
    uow: UnitOfWork,
    settings: Settings,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    page: int = 0,
    page_size: int = PAGE_SIZE,
    sla_clock: SlaClock = no_sla_clock,
    quality_cache: QualityCache | None = None,
) -> HomeData:
    """Reps see their open leads; marketing (and admins) see lead quality; everyone sees targets.
    Someone Handoff knows nothing about sees both, so a new install is never an empty page."""
    member = await uow.members.get(team_id, user_id)
    side = member.side if member else None
    is_admin = user_id in settings.admins
    reps = {rep for rule in await uow.rules.all(team_id) for rep in (rule.reps or [])}
    page = max(0, page)
    leads, total = await open_leads_for(
        uow.session, team_id, user_id, limit=page_size, offset=page * page_size
    )
    if page and not leads and total:  # the page emptied since the button was drawn
        page = (total - 1) // page_size
        leads, total = await open_leads_for(
            uow.session, team_id, user_id, limit=page_size, offset=page * page_size
        )
    show_rep = side == "sales" or user_id in reps or total > 0 or side is None
    show_marketing = side == "marketing" or is_admin or side is None
    quality = None
    if show_marketing:
        quality = (
            await quality_cache.get(uow, team_id, now)
            if quality_cache is not None
            else await lead_quality(uow.session, team_id, now, QUALITY_WINDOWS)
        )
    board = await build_scoreboard(uow, team_id, now, settings.tz)
    return HomeData(
        user_id=user_id,
        now=now,
        show_rep=show_rep,
        show_marketing=show_marketing,
        scoreboard=board,
        open_leads=[(lead, sla_clock(lead, now)) for lead in leads],
        open_total=total,
        page=page,
        page_size=page_size,
        quality=quality,
    )
