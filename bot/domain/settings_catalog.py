"""Every setting an admin can change from Slack: its page, kind, validation and the environment
default it overrides. Pure: parsing what a person typed into the value stored in workspace_setting
(under the same key the readers already use), and showing a stored value back as words.

A value is stored only when an admin sets it; without a row the environment (or the built-in
default) applies, so resetting is deleting the row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.prompts import schedule_trigger
from bot.domain.sla import Escalation, parse_days, parse_holidays, parse_hours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_USERS = 100


class Kind(StrEnum):
    CHANNEL = "channel"  # a conversations select
    USERS = "users"  # a multi users select
    USERGROUP = "usergroup"  # an S… ID typed in
    TIMEZONE = "timezone"
    HOURS = "hours"
    DAYS = "days"
    DATES = "dates"
    INT = "int"
    SHARE = "share"  # 0–1, typed as 0.5 or 50%
    CHOICE = "choice"
    SCHEDULE = "schedule"


class Source(StrEnum):
    DEFAULT = "default"
    ENVIRONMENT = "environment"
    SLACK = "set in Slack"


@dataclass(frozen=True)
class Page:
    key: str
    title: str


PAGES: tuple[Page, ...] = (
    Page("channels", "Channels & people"),
    Page("time", "Time & calendar"),
    Page("sla", "SLAs"),
    Page("leads", "Leads & reasons"),
    Page("partnership", "Digest & discussions"),
)


@dataclass(frozen=True)
class SettingDef:
    key: str  # the workspace_setting key (the readers' key) and the Settings attribute
    label: str
    page: str
    kind: Kind
    help: str
    env: str | None = None  # the environment variable that sets the default
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[tuple[str, str], ...] = field(default=())  # (value, label)

    @property
    def attribute(self) -> str:
        return self.key


CATALOG: tuple[SettingDef, ...] = (
    SettingDef("sales_channel", "Sales channel", "channels", Kind.CHANNEL,
               "Where leads go when no routing rule matches", "HANDOFF_SALES_CHANNEL"),
    SettingDef("marketing_channel", "Marketing channel", "channels", Kind.CHANNEL,
               "Receives sales' verdicts", "HANDOFF_MARKETING_CHANNEL"),
    SettingDef("partnership_channel", "Partnership channel", "channels", Kind.CHANNEL,
               "The weekly digest and partnership prompts", "HANDOFF_PARTNERSHIP_CHANNEL"),
    SettingDef("admins", "Handoff admins", "channels", Kind.USERS,
               "Who may configure Handoff (at least one)", "HANDOFF_ADMINS"),
    SettingDef("sales_users", "Sales team (people)", "channels", Kind.USERS,
               "Who counts as sales; wins over the user group", "HANDOFF_SALES_USERS"),
    SettingDef("marketing_users", "Marketing team (people)", "channels", Kind.USERS,
               "Who counts as marketing; wins over the user group", "HANDOFF_MARKETING_USERS"),
    SettingDef("sales_usergroup", "Sales user group", "channels", Kind.USERGROUP,
               "A Slack user group ID (S…) for sales", "HANDOFF_SALES_USERGROUP"),
    SettingDef("marketing_usergroup", "Marketing user group", "channels", Kind.USERGROUP,
               "A Slack user group ID (S…) for marketing", "HANDOFF_MARKETING_USERGROUP"),
    SettingDef("timezone", "Time zone", "time", Kind.TIMEZONE,
               "An IANA name such as Europe/Paris", "HANDOFF_TIMEZONE"),
    SettingDef("business_hours", "Business hours", "time", Kind.HOURS,
               "e.g. 09:00-17:00; 00:00-24:00 for round the clock", "HANDOFF_BUSINESS_HOURS"),
    SettingDef("business_days", "Business days", "time", Kind.DAYS,
               "e.g. mon-fri, sun-thu, mon,tue,thu", "HANDOFF_BUSINESS_DAYS"),
    SettingDef("holidays", "Holidays", "time", Kind.DATES,
               "Dates like 2026-12-25, comma-separated: no SLA time, no prompts", "HANDOFF_HOLIDAYS"),
    SettingDef("sla_remind_minutes", "Reminder after (minutes)", "sla", Kind.INT,
               "Unclaimed lead: reminder in the card's thread", "HANDOFF_SLA_REMIND_MINUTES", 1, 100_000),
    SettingDef("sla_escalate_minutes", "Escalation after (minutes)", "sla", Kind.INT,
               "Unclaimed lead: escalation; more than the reminder", "HANDOFF_SLA_ESCALATE_MINUTES", 1, 100_000),
    SettingDef("sla_verdict_hours", "Verdict due after (hours)", "sla", Kind.INT,
               "Claimed lead without accept/reject: DM to the owner", "HANDOFF_SLA_VERDICT_HOURS", 1, 10_000),
    SettingDef("sla_stage_days", "Stage nudge after (days)", "sla", Kind.INT,
               "Accepted lead without a stage change: DM nudge", "HANDOFF_SLA_STAGE_DAYS", 1, 365),
    SettingDef("sla_escalation", "Escalation mode", "sla", Kind.CHOICE,
               "What an escalation does (a routing rule's own mode wins)", None,
               choices=((Escalation.MANAGER.value, "DM the rule's manager (admins if none)"),
                        (Escalation.REASSIGN.value, "Reassign to the next rep"))),
    SettingDef("hot_score", "Hot-lead score", "leads", Kind.INT,
               "A lead scoring at least this pings the rule's hot-lead group (a rule's own score wins)",
               "HANDOFF_HOT_SCORE", 0, 100),
    SettingDef("digest_day", "Digest day", "partnership", Kind.CHOICE,
               "Day of the weekly digest", "HANDOFF_DIGEST_DAY",
               choices=tuple((d, d.capitalize()) for d in WEEKDAYS)),
    SettingDef("digest_hour", "Digest hour", "partnership", Kind.INT,
               "Hour (0–23, workspace time zone) of the weekly digest", "HANDOFF_DIGEST_HOUR", 0, 23),
    SettingDef("discuss_cron", "Discussion schedule", "partnership", Kind.SCHEDULE,
               "mon 10:00, mon,thu 9:30, weekdays 9:00, daily 17:00 or off", "HANDOFF_DISCUSS_CRON"),
    SettingDef("discuss_window_days", "Discussion open for (days)", "partnership", Kind.INT,
               "How long a prompt collects answers before its recap is posted", "HANDOFF_DISCUSS_WINDOW_DAYS",
               1, 30),
    SettingDef("discuss_min_acceptance", "Prompt below acceptance", "partnership", Kind.SHARE,
               "A source accepted less often than this becomes the prompt (e.g. 50%)",
               "HANDOFF_DISCUSS_MIN_ACCEPTANCE"),
    SettingDef("discuss_min_sample", "…with at least (verdicts)", "partnership", Kind.INT,
               "Verdicts a source needs in the week to count", "HANDOFF_DISCUSS_MIN_SAMPLE", 1, 10_000),
    SettingDef("discuss_reason_share", "Prompt when one reason reaches", "partnership", Kind.SHARE,
               "Share of the week's rejections behind one reason (e.g. 50%)", "HANDOFF_DISCUSS_REASON_SHARE"),
)  # fmt: skip

BY_KEY: dict[str, SettingDef] = {d.key: d for d in CATALOG}
BUILT_IN: dict[str, Any] = {"sla_escalation": Escalation.MANAGER.value, "hot_score": None}


def setting(key: str) -> SettingDef:
    try:
        return BY_KEY[key]
    except KeyError:
        raise LookupError(f"no setting {key!r}") from None


def on_page(page: str) -> list[SettingDef]:
    return [d for d in CATALOG if d.page == page]


def page_of(key: str) -> str:
    return BY_KEY[key].page if key in BY_KEY else PAGES[0].key


def _users(raw: Any) -> list[str]:
    if raw is None:
        return []
    items = raw.replace(",", " ").split() if isinstance(raw, str) else list(raw)
    out: list[str] = []
    for item in items:
        user = str(item).strip().removeprefix("<@").removesuffix(">").split("|", 1)[0]
        if not (user[:1] in ("U", "W") and user.isalnum() and user.isupper()):
            raise ValueError(f"{item!r} is not a Slack user")
        out.append(user)
    return list(dict.fromkeys(out))


def _int(raw: Any, d: SettingDef) -> int:
    text = str(raw if raw is not None else "").strip()
    try:
        value = int(text)
    except ValueError:
        raise ValueError("must be a whole number") from None
    if (d.minimum is not None and value < d.minimum) or (d.maximum is not None and value > d.maximum):
        raise ValueError(f"must be between {d.minimum} and {d.maximum}")
    return value


def _share(raw: Any) -> float:
    text = str(raw if raw is not None else "").strip()
    percent = text.endswith("%")
    try:
        value = float(text.removesuffix("%").strip())
    except ValueError:
        raise ValueError("must be a share such as 50% or 0.5") from None
    if percent or value > 1:
        value /= 100
    if not 0 <= value <= 1:
        raise ValueError("must be between 0% and 100%")
    return round(value, 4)


def parse(d: SettingDef, raw: Any) -> Any:
    """What the admin entered → the stored value; ValueError with a sentence for the form."""
    empty = raw is None or (isinstance(raw, str | list) and not raw)
    if d.kind is Kind.CHANNEL:
        if empty:
            raise ValueError("pick a channel")
        text = str(raw).strip()
        if not (text[:1] in ("C", "G") and text.isalnum()):
            raise ValueError("must be a channel")
        return text
    if d.kind is Kind.USERS:
        users = _users(raw)
        if d.key == "admins" and not users:
            raise ValueError("Handoff needs at least one admin")
        if len(users) > MAX_USERS:
            raise ValueError(f"at most {MAX_USERS} people")
        return users
    if d.kind is Kind.USERGROUP:
        text = str(raw or "").strip().removeprefix("<!subteam^").split("|", 1)[0].removesuffix(">")
        if not (text[:1] == "S" and text.isalnum() and text.isupper()):
            raise ValueError("must be a Slack user group ID such as S0123456789")
        return text
    if empty:
        raise ValueError("cannot be empty")
    if d.kind is Kind.TIMEZONE:
        text = str(raw).strip()
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"“{text}” is not a time zone; use a name such as Europe/Paris") from None
        return text
    if d.kind is Kind.HOURS:
        parse_hours(str(raw))  # CalendarError is a ValueError with a sentence
        return str(raw).strip()
    if d.kind is Kind.DAYS:
        parse_days(str(raw))
        return str(raw).strip().lower()
    if d.kind is Kind.DATES:
        dates = sorted(parse_holidays(str(raw)))
        return [day.isoformat() for day in dates]
    if d.kind is Kind.INT:
        return _int(raw, d)
    if d.kind is Kind.SHARE:
        return _share(raw)
    if d.kind is Kind.CHOICE:
        value = str(raw).strip().lower()
        if value not in {v for v, _ in d.choices}:
            raise ValueError("pick one of the options")
        return value
    if d.kind is Kind.SCHEDULE:
        spec = " ".join(str(raw).split()).lower()
        if spec != "off":
            schedule_trigger(spec, ZoneInfo("UTC"))
        return spec
    raise AssertionError(d.kind)


def cross_errors(key: str, value: Any, effective: Mapping[str, Any]) -> str | None:
    """A rule between settings, checked against the values in force once this one changes."""
    after = {**effective, key: value}
    if key in ("sla_remind_minutes", "sla_escalate_minutes"):
        remind, escalate = after.get("sla_remind_minutes"), after.get("sla_escalate_minutes")
        if isinstance(remind, int) and isinstance(escalate, int) and remind >= escalate:
            return f"the reminder ({remind} min) must come before the escalation ({escalate} min)"
    return None


def to_text(d: SettingDef, value: Any) -> str:
    """A value as the edit form shows it (and takes it back)."""
    if value is None or value == () or value == []:
        return ""
    if d.kind is Kind.USERS:
        return ", ".join(str(v) for v in value)
    if d.kind is Kind.DATES:
        items = value.split(",") if isinstance(value, str) else list(value)
        return ", ".join(v.isoformat() if isinstance(v, date) else str(v).strip() for v in items)
    if d.kind is Kind.SHARE:
        return f"{float(value) * 100:g}%"
    return str(value)


def shown(d: SettingDef, value: Any) -> str:
    """A value as mrkdwn for the Settings page and the audit log (IDs become mentions)."""
    if value is None or value == "" or value == () or value == []:
        return "—"
    if d.kind is Kind.CHANNEL:
        return f"<#{value}>"
    if d.kind is Kind.USERS:
        return ", ".join(f"<@{u}>" for u in value)
    if d.kind is Kind.USERGROUP:
        return f"<!subteam^{value}>"
    if d.kind is Kind.CHOICE:
        return dict(d.choices).get(str(value), str(value))
    return to_text(d, value)


def choice_label(d: SettingDef, value: str) -> str:
    return dict(d.choices).get(value, value)


def users_of(value: Any) -> Sequence[str]:
    return [str(u) for u in value] if isinstance(value, list | tuple) else []


# -- what the Settings page shows ----------------------------------------------------------


@dataclass(frozen=True)
class SettingValue:
    definition: SettingDef
    value: Any
    source: Source


@dataclass(frozen=True)
class SettingsPage:
    page: Page
    rows: list[SettingValue]
    reasons: dict[str, str] = field(default_factory=dict)  # offered {code: label} (leads page)
    retired: dict[str, str] = field(default_factory=dict)
    # the partnership page: {channel: schedule or "off"} set per channel (from Settings or /discuss)
    schedules: dict[str, str] = field(default_factory=dict)

    @property
    def index(self) -> int:
        return next(i for i, p in enumerate(PAGES) if p.key == self.page.key)


def find_page(key: str) -> Page:
    return next((p for p in PAGES if p.key == key), PAGES[0])
