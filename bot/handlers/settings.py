"""Settings from Slack: the Settings pages in App Home (admins), their edit forms, and
`/handoff settings [history]`. Every click and submission is checked for an admin by the service,
so a forged payload from anyone else is refused."""

from __future__ import annotations

import re

from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.domain import settings_catalog as catalog
from bot.domain.errors import InvalidInput
from bot.handlers.interactions import ClickRequest, InteractionRouter, SubmissionRequest
from bot.handlers.router import CommandRequest, CommandRouter
from bot.ids import ActionId, BlockId, CallbackId, Command
from bot.services import workspace_settings as service
from bot.services.runtime import Runtime
from bot.slack.blocks.settings import (
    REMOVE_CHOICE,
    RESET_CHOICE,
    RETIRE_CHOICE,
    edit_modal,
    reason_modal,
    schedule_modal,
    settings_view,
)
from bot.slack.mrkdwn import escape, mention, truncate

SETTINGS_PAGE = re.compile(rf"^{ActionId.HOME_SETTINGS.value}_\w+$")


def register(routers: dict[Command, CommandRouter], interactions: InteractionRouter) -> None:
    routers[Command.HANDOFF].sub("settings")(settings_command)
    interactions.click(SETTINGS_PAGE)(on_page)
    interactions.click(ActionId.SETTINGS_EDIT)(on_edit)
    interactions.click(ActionId.SETTINGS_REASON)(on_reason)
    interactions.click(ActionId.SETTINGS_SCHEDULE)(on_schedule)
    interactions.submission(
        CallbackId.SETTINGS_EDIT,
        errors_at=BlockId.SETTING_VALUE,
        fields={service.VALUE: BlockId.SETTING_VALUE},
    )(on_save)
    interactions.submission(
        CallbackId.SETTINGS_REASON,
        errors_at=BlockId.REASON_LABEL,
        fields={service.LABEL: BlockId.REASON_LABEL},
    )(on_save_reason)
    interactions.submission(
        CallbackId.SETTINGS_SCHEDULE,
        errors_at=BlockId.SCHEDULE_SPEC,
        fields={service.SCHEDULE: BlockId.SCHEDULE_SPEC, service.CHANNEL: BlockId.SCHEDULE_CHANNEL},
    )(on_save_schedule)


async def publish_settings(
    handoff: Runtime, client: AsyncWebClient, team_id: str, user_id: str, page: str
) -> None:
    """A read, answered straight away (views.publish is not a write that follows a change)."""
    async with handoff.open_context(team_id) as ctx:
        data = await service.page(ctx, by=user_id, page_key=page)
    await client.views_publish(user_id=user_id, view=settings_view(data))


async def on_page(req: ClickRequest) -> None:
    await publish_settings(req.handoff, req.client, req.team_id, req.user_id, req.click.value)


async def on_edit(req: ClickRequest) -> None:
    async with req.transaction() as ctx:
        value = await service.current(ctx, by=req.user_id, key=req.click.value)
    await req.open_view(edit_modal(value))


async def on_reason(req: ClickRequest) -> None:
    async with req.transaction() as ctx:
        data = await service.page(ctx, by=req.user_id, page_key="leads")
    code = req.click.value if req.click.value in data.reasons else None
    await req.open_view(reason_modal(code, data.reasons.get(code or "")))


async def on_schedule(req: ClickRequest) -> None:
    async with req.transaction() as ctx:
        data = await service.page(ctx, by=req.user_id, page_key="partnership")
    channel = req.click.value if req.click.value in data.schedules else None
    await req.open_view(schedule_modal(channel, data.schedules.get(channel or "")))


def _checked(value: object, choice: str) -> bool:
    return isinstance(value, list) and choice in value


async def _require_bot_in(client: AsyncWebClient, channel: object, field: str = service.VALUE) -> None:
    """A channel Handoff is not in would swallow its leads (or prompts): say so next to the field."""
    if not isinstance(channel, str) or not channel:
        return  # the service says a channel is missing
    try:
        info = await client.conversations_info(channel=channel)
        member = bool((info.get("channel") or {}).get("is_member"))
    except SlackApiError:
        member = False  # a private channel Handoff is not in does not exist for it
    if not member:
        raise InvalidInput({field: messages.SETTING_INVITE_FIRST.format(channel=channel)})


async def on_save(req: SubmissionRequest) -> View | None:
    key = req.metadata
    reset = _checked(req.values.get(BlockId.SETTING_RESET.value), RESET_CHOICE)
    raw = req.values.get(BlockId.SETTING_VALUE.value)
    if not reset and key in catalog.BY_KEY and catalog.BY_KEY[key].kind is catalog.Kind.CHANNEL:
        async with req.transaction() as ctx:  # admins first: a refusal tells nothing about channels
            await service.current(ctx, by=req.user_id, key=key)
        await _require_bot_in(req.client, raw)
    async with req.transaction() as ctx:
        if reset:
            await service.reset(ctx, by=req.user_id, key=key)
        else:
            await service.update(ctx, by=req.user_id, key=key, raw=raw)
    await publish_settings(req.handoff, req.client, req.team_id, req.user_id, catalog.page_of(key))
    return None


async def on_save_reason(req: SubmissionRequest) -> View | None:
    code, label = req.metadata, req.values.get(BlockId.REASON_LABEL.value)
    async with req.transaction() as ctx:
        if not code:
            await service.add_reason(ctx, by=req.user_id, label=label)
        elif _checked(req.values.get(BlockId.REASON_RETIRE.value), RETIRE_CHOICE):
            await service.retire_reason(ctx, by=req.user_id, code=code)
        else:
            await service.rename_reason(ctx, by=req.user_id, code=code, label=label)
    await publish_settings(req.handoff, req.client, req.team_id, req.user_id, "leads")
    return None


async def on_save_schedule(req: SubmissionRequest) -> View | None:
    channel = req.metadata or req.values.get(BlockId.SCHEDULE_CHANNEL.value)
    spec = req.values.get(BlockId.SCHEDULE_SPEC.value)
    if _checked(req.values.get(BlockId.SCHEDULE_REMOVE.value), REMOVE_CHOICE) and req.metadata:
        async with req.transaction() as ctx:
            await service.remove_channel_schedule(ctx, by=req.user_id, channel=req.metadata)
    else:
        if not req.metadata:  # a new channel: admins first, then whether Handoff is in it
            async with req.transaction() as ctx:
                await service.page(ctx, by=req.user_id, page_key="partnership")
            await _require_bot_in(req.client, channel, service.CHANNEL)
        async with req.transaction() as ctx:
            await service.set_channel_schedule(ctx, by=req.user_id, channel=channel, spec=spec)
    await publish_settings(req.handoff, req.client, req.team_id, req.user_id, "partnership")
    return None


async def settings_command(req: CommandRequest) -> None:
    action = req.args.strip().lower()
    if action in ("help", "usage"):
        await req.ack(text=messages.SETTINGS_USAGE)
        return
    if action not in ("", "list", "history"):
        raise InvalidInput({"usage": messages.SETTINGS_USAGE})
    if action == "history":
        async with req.handoff.open_context(req.team_id) as ctx:
            rows = await service.history(ctx, by=req.user_id)
        if not rows:
            await req.ack(text=messages.SETTINGS_HISTORY_NONE)
            return
        lines = [messages.SETTINGS_HISTORY_HEADER]
        for row in rows:
            when = f"<!date^{int(row.at.timestamp())}^{{date_short}} {{time}}|{row.at:%Y-%m-%d %H:%M} UTC>"
            lines.append(
                messages.SETTINGS_HISTORY_LINE.format(
                    when=when,
                    who=mention(row.by) if row.by else "Handoff",
                    label=service.label_of(row.key),
                    old=row.old,
                    new=row.new,
                )
            )
        await req.ack(text=truncate("\n".join(lines), 3900))
        return
    lines = [messages.SETTINGS_HEADER]
    async with req.handoff.open_context(req.team_id) as ctx:
        for page in catalog.PAGES:
            data = await service.page(ctx, by=req.user_id, page_key=page.key)
            lines.append(f"*{page.title}*")
            for value in data.rows:
                lines.append(
                    messages.SETTINGS_LINE.format(
                        label=value.definition.label,
                        value=catalog.shown(value.definition, value.value),
                        source=value.source.value,
                    )
                )
            for channel, spec in data.schedules.items():
                lines.append(
                    messages.SETTINGS_LINE.format(
                        label=f"Discussion schedule in <#{channel}>",
                        value=f"`{escape(spec)}`",
                        source=catalog.Source.SLACK.value,
                    )
                )
    await req.ack(text=truncate("\n".join(lines), 3900))
