"""Admins configure Handoff from Slack: read each setting with where its value comes from, change
or reset it with validation, edit the reject reasons, and keep an audit log of every change.

Values live in workspace_setting rows under the keys the features already read per use (the SLA
pass, intake, the digest and prompt jobs), so a change applies at the next use on every instance:
there is no cache to invalidate.
"""

from __future__ import annotations

import re
from typing import Any

from bot import messages
from bot.config import Settings
from bot.domain import settings_catalog as catalog
from bot.domain.errors import InvalidInput
from bot.domain.prompts import schedule_trigger
from bot.domain.reasons import OTHER, REASONS_KEY, RETIRED_REASONS_KEY, retired_reasons
from bot.domain.settings_catalog import SettingDef, SettingsPage, SettingValue, Source
from bot.services import setup_checklist
from bot.services.context import Ctx
from bot.services.discussions import SCHEDULES_KEY, channel_overrides
from bot.slack.mrkdwn import escape
from bot.storage.models import SettingAudit
from bot.storage.uow import UnitOfWork

VALUE = "value"  # the InvalidInput field of a setting's form
LABEL = "label"  # the reason form's field
SCHEDULE = "schedule"  # the channel schedule form's fields (and `/discuss schedule`'s error)
CHANNEL = "channel"
MAX_REASONS = 25
REASON_LABEL_MAX = 75
MAX_CHANNEL_SCHEDULES = 40  # each is a line on the Settings page (100 blocks at most)


def default_of(settings: Settings, d: SettingDef) -> Any:
    """The environment's value (or the built-in default) that applies without a row."""
    return getattr(settings, d.attribute, catalog.BUILT_IN.get(d.key))


def source_of(settings: Settings, d: SettingDef) -> Source:
    return Source.ENVIRONMENT if d.attribute in settings.model_fields_set else Source.DEFAULT


async def values(
    uow: UnitOfWork, settings: Settings, team_id: str, defs: list[SettingDef]
) -> list[SettingValue]:
    rows = await uow.settings.overrides(team_id, [d.key for d in defs])
    out = []
    for d in defs:
        row = rows.get(d.key)
        if row is not None and row.value not in (None, ""):
            out.append(SettingValue(d, row.value, Source.SLACK))
        else:
            out.append(SettingValue(d, default_of(settings, d), source_of(settings, d)))
    return out


async def page(ctx: Ctx, *, by: str, page_key: str) -> SettingsPage:
    await ctx.require_admin(by)
    found = catalog.find_page(page_key)
    rows = await values(ctx.uow, ctx.settings, ctx.team_id, catalog.on_page(found.key))
    reasons: dict[str, str] = {}
    retired: dict[str, str] = {}
    schedules: dict[str, str] = {}
    if found.key == "leads":
        reasons = await ctx.uow.settings.reject_reasons(ctx.team_id)
        retired = retired_reasons(await ctx.uow.settings.get(ctx.team_id, RETIRED_REASONS_KEY))
    if found.key == "partnership":
        schedules = await channel_overrides(ctx)
    return SettingsPage(page=found, rows=rows, reasons=reasons, retired=retired, schedules=schedules)


async def current(ctx: Ctx, *, by: str, key: str) -> SettingValue:
    await ctx.require_admin(by)
    [value] = await values(ctx.uow, ctx.settings, ctx.team_id, [_definition(key)])
    return value


def _definition(key: str) -> SettingDef:
    try:
        return catalog.setting(key)
    except LookupError:
        raise InvalidInput({VALUE: messages.SETTING_UNKNOWN}) from None


def _described(value: SettingValue) -> str:
    text = catalog.shown(value.definition, value.value)
    return text if value.source is Source.SLACK else f"{text} ({value.source.value})"


async def update(ctx: Ctx, *, by: str, key: str, raw: Any) -> SettingValue:
    """Validate and store an admin's value; InvalidInput({"value": sentence}) when it is wrong.
    Recorded in the audit log; nothing is written when the value does not change."""
    await ctx.require_admin(by)
    d = _definition(key)
    try:
        value = catalog.parse(d, raw)
    except ValueError as exc:
        raise InvalidInput({VALUE: str(exc)}) from None
    related = [catalog.setting(k) for k in ("sla_remind_minutes", "sla_escalate_minutes")]
    effective = {v.definition.key: v.value for v in await values(ctx.uow, ctx.settings, ctx.team_id, related)}
    problem = catalog.cross_errors(key, value, effective)
    if problem:
        raise InvalidInput({VALUE: problem})
    [before] = await values(ctx.uow, ctx.settings, ctx.team_id, [d])
    if before.source is Source.SLACK and before.value == value:
        return before
    await ctx.uow.settings.set(ctx.team_id, key, value, by=by, at=ctx.now)
    after = SettingValue(d, value, Source.SLACK)
    await _audit(ctx, key, _described(before), _described(after), by)
    return after


async def reset(ctx: Ctx, *, by: str, key: str) -> SettingValue:
    """Back to the environment default (the row is deleted); recorded in the audit log."""
    await ctx.require_admin(by)
    d = _definition(key)
    if key == "admins":
        raise InvalidInput({VALUE: messages.SETTING_ADMINS_NO_RESET})
    [before] = await values(ctx.uow, ctx.settings, ctx.team_id, [d])
    after = SettingValue(d, default_of(ctx.settings, d), source_of(ctx.settings, d))
    if key in ("sla_remind_minutes", "sla_escalate_minutes"):
        related = [catalog.setting(k) for k in ("sla_remind_minutes", "sla_escalate_minutes")]
        effective = {
            v.definition.key: v.value for v in await values(ctx.uow, ctx.settings, ctx.team_id, related)
        }
        problem = catalog.cross_errors(key, after.value, effective)
        if problem:
            raise InvalidInput({VALUE: problem})
    if await ctx.uow.settings.delete(ctx.team_id, key):
        await _audit(ctx, key, _described(before), _described(after), by)
    return after


async def _audit(ctx: Ctx, key: str, old: str, new: str, by: str) -> None:
    await ctx.uow.setting_audit.add(ctx.team_id, key, old=old, new=new, by=by, at=ctx.now)
    await setup_checklist.refresh(ctx)  # a channel or an admin may tick a step of the first run


async def history(ctx: Ctx, *, by: str, limit: int = 20) -> list[SettingAudit]:
    await ctx.require_admin(by)
    return await ctx.uow.setting_audit.latest(ctx.team_id, limit)


def label_of(key: str) -> str:
    if key == REASONS_KEY:
        return "Reject reasons"
    if key == SCHEDULES_KEY:
        return "Discussion schedule per channel"
    return catalog.BY_KEY[key].label if key in catalog.BY_KEY else key


# -- reject reasons ----------------------------------------------------------------------------


def _clean_label(raw: Any) -> str:
    label = " ".join(str(raw or "").split())
    if not label:
        raise InvalidInput({LABEL: messages.REASON_EMPTY})
    if len(label) > REASON_LABEL_MAX:
        raise InvalidInput({LABEL: messages.REASON_TOO_LONG.format(limit=REASON_LABEL_MAX)})
    return label


def _code_for(label: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:60] or "reason"
    code, n = base, 2
    while code in taken:
        code, n = f"{base}_{n}", n + 1
    return code


async def _reasons(ctx: Ctx) -> tuple[dict[str, str], dict[str, str]]:
    offered = await ctx.uow.settings.reject_reasons(ctx.team_id)
    retired = retired_reasons(await ctx.uow.settings.get(ctx.team_id, RETIRED_REASONS_KEY))
    return offered, retired


def _same_label(reasons: dict[str, str], label: str, *, but: str | None = None) -> bool:
    return any(v.casefold() == label.casefold() for k, v in reasons.items() if k != but)


async def _save_reasons(
    ctx: Ctx, offered: dict[str, str], retired: dict[str, str], *, by: str, old: str, new: str
) -> None:
    # "Other" stays last, as the form offers it
    ordered = {k: v for k, v in offered.items() if k != OTHER} | {OTHER: offered[OTHER]}
    await ctx.uow.settings.set(ctx.team_id, REASONS_KEY, ordered, by=by, at=ctx.now)
    await ctx.uow.settings.set(ctx.team_id, RETIRED_REASONS_KEY, retired, by=by, at=ctx.now)
    await _audit(ctx, REASONS_KEY, old, new, by)


async def add_reason(ctx: Ctx, *, by: str, label: Any) -> str:
    await ctx.require_admin(by)
    text = _clean_label(label)
    offered, retired = await _reasons(ctx)
    if _same_label(offered, text):
        raise InvalidInput({LABEL: messages.REASON_EXISTS})
    if len(offered) >= MAX_REASONS:
        raise InvalidInput({LABEL: messages.REASON_TOO_MANY.format(limit=MAX_REASONS)})
    code = _code_for(text, set(offered) | set(retired))
    offered[code] = text
    await _save_reasons(ctx, offered, retired, by=by, old="—", new=f"added “{escape(text)}”")
    return code


async def rename_reason(ctx: Ctx, *, by: str, code: str, label: Any) -> None:
    await ctx.require_admin(by)
    text = _clean_label(label)
    offered, retired = await _reasons(ctx)
    if code not in offered:
        raise InvalidInput({LABEL: messages.REASON_GONE})
    if offered[code] == text:
        return
    if _same_label(offered, text, but=code):
        raise InvalidInput({LABEL: messages.REASON_EXISTS})
    old = offered[code]
    offered[code] = text
    await _save_reasons(ctx, offered, retired, by=by, old=f"“{escape(old)}”", new=f"“{escape(text)}”")


async def retire_reason(ctx: Ctx, *, by: str, code: str) -> None:
    """No longer offered; leads already rejected for it keep its label."""
    await ctx.require_admin(by)
    offered, retired = await _reasons(ctx)
    if code == OTHER:
        raise InvalidInput({LABEL: messages.REASON_OTHER_STAYS})
    if code not in offered:
        raise InvalidInput({LABEL: messages.REASON_GONE})
    label = offered.pop(code)
    retired[code] = label
    await _save_reasons(ctx, offered, retired, by=by, old=f"“{escape(label)}”", new="retired")


# -- discussion schedules per channel ----------------------------------------------------------


def _schedule_shown(channel: str, spec: str | None) -> str:
    return f"<#{channel}> {f'`{escape(spec)}`' if spec else '— (the default)'}"


async def set_channel_schedule(ctx: Ctx, *, by: str, channel: Any, spec: Any) -> str:
    """A channel's own prompt schedule ("off": none there, even in the partnership channel), from
    Settings or `/discuss schedule`; InvalidInput({"schedule" | "channel": sentence}); audited."""
    await ctx.require_admin(by)
    channel_id = str(channel or "").strip()
    if not (channel_id[:1] in ("C", "G") and channel_id.isalnum()):
        raise InvalidInput({CHANNEL: messages.SCHEDULE_PICK_CHANNEL})
    text = " ".join(str(spec or "").split()).lower()
    if not text:
        raise InvalidInput({SCHEDULE: messages.SCHEDULE_EMPTY})
    if text != "off":
        try:
            schedule_trigger(text, await ctx.tz())
        except ValueError as exc:
            raise InvalidInput({SCHEDULE: str(exc)}) from None
    overrides = await channel_overrides(ctx)
    before = overrides.get(channel_id)
    if before == text:
        return text
    if before is None and len(overrides) >= MAX_CHANNEL_SCHEDULES:
        raise InvalidInput({CHANNEL: messages.SCHEDULE_TOO_MANY.format(limit=MAX_CHANNEL_SCHEDULES)})
    overrides[channel_id] = text
    await ctx.uow.settings.set(ctx.team_id, SCHEDULES_KEY, overrides, by=by, at=ctx.now)
    await _audit(
        ctx, SCHEDULES_KEY, _schedule_shown(channel_id, before), _schedule_shown(channel_id, text), by
    )
    return text


async def remove_channel_schedule(ctx: Ctx, *, by: str, channel: str) -> None:
    """Back to the default: the partnership channel follows *Discussion schedule*, others get none."""
    await ctx.require_admin(by)
    overrides = await channel_overrides(ctx)
    before = overrides.pop(channel, None)
    if before is None:
        return
    await ctx.uow.settings.set(ctx.team_id, SCHEDULES_KEY, overrides, by=by, at=ctx.now)
    await _audit(ctx, SCHEDULES_KEY, _schedule_shown(channel, before), _schedule_shown(channel, None), by)
