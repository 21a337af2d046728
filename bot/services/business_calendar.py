"""The workspace's business calendar (hours, days, holidays, time zone): what SLA clocks, routing's
working hours, follow-ups, signals, discussions and reports all count in. Its own module so the
services that read it do not import the SLA pass (routing is imported by the SLA pass)."""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.domain.sla import BusinessCalendar, CalendarError
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)


async def workspace_value(uow: UnitOfWork, team_id: str, key: str, default: object) -> object:
    """A workspace_setting set from Slack, else `default` (the environment's)."""
    value = await uow.settings.get(team_id, key)
    return default if value in (None, "") else value


async def load_calendar(uow: UnitOfWork, settings: Settings, team_id: str) -> BusinessCalendar:
    """The workspace's business hours, days, holidays and time zone: environment defaults,
    overridden per workspace by workspace_setting rows of the same name. The one reading of the
    holidays (scheduled discussions skip the same days the SLA clocks do)."""
    hours = await workspace_value(uow, team_id, "business_hours", settings.business_hours)
    days = await workspace_value(uow, team_id, "business_days", settings.business_days)
    holidays = await workspace_value(uow, team_id, "holidays", settings.holidays)
    timezone = await workspace_value(uow, team_id, "timezone", settings.timezone)
    try:
        calendar = BusinessCalendar.from_text(
            timezone=str(timezone),
            hours=str(hours),
            days=str(days),
            holidays=holidays,  # type: ignore[arg-type]
        )
    except (CalendarError, ValueError, KeyError) as exc:
        # a bad workspace override must not stop the clocks: fall back to the environment
        log.warning("workspace %s has an unusable SLA calendar (%s); using the defaults", team_id, exc)
        calendar = BusinessCalendar.from_text(
            timezone=settings.timezone,
            hours=settings.business_hours,
            days=settings.business_days,
            holidays=settings.holidays,
        )
    return calendar
