"""`/targets`: the shared scoreboard, setting targets (admins), and reporting manual metrics.

Thin: parse, call one service, reply. The scoreboard is computed inline (it is a handful of
indexed aggregates, well under Slack's 3 s) and answered in the ack itself.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.views import View

from bot import messages
from bot.domain.targets import CATALOGUE, format_value
from bot.handlers.interactions import InteractionRouter, SubmissionRequest
from bot.handlers.router import CommandRequest, CommandRouter
from bot.ids import BlockId, CallbackId, Command
from bot.services import retention
from bot.services.business_calendar import load_calendar
from bot.services.targets import (
    Reported,
    TargetSet,
    build_scoreboard,
    report_metric,
    set_target_from_form,
    set_target_from_text,
)
from bot.slack.blocks.retention import retention_blocks
from bot.slack.blocks.targets import (
    scope_text,
    scoreboard_blocks,
    scoreboard_text,
    target_modal,
    target_saved_view,
)

# form field → the modal's block_id, for inline errors
_FORM_BLOCKS = {
    "metric": BlockId.METRIC.value,
    "manual_metric": BlockId.MANUAL_METRIC.value,
    "target_value": BlockId.TARGET_VALUE.value,
    "period": BlockId.PERIOD.value,
    "segment": BlockId.SEGMENT.value,
}


def register(routers: dict[Command, CommandRouter], interactions: InteractionRouter) -> None:
    router = routers[Command.TARGETS]
    router.sub("", "show")(show_targets)
    router.sub("public")(show_targets_public)
    router.sub("set")(set_target_command)
    router.sub("report")(report_command)
    router.sub("help")(targets_help)
    interactions.submission(CallbackId.TARGET_SET, errors_at=BlockId.METRIC, fields=_FORM_BLOCKS)(
        on_target_form
    )


async def _scoreboard(req: CommandRequest) -> tuple[str, list[Any]]:
    handoff = req.handoff
    async with handoff.read_uow() as uow:
        calendar = await load_calendar(uow, handoff.settings, req.team_id)
        board = await build_scoreboard(uow, req.team_id, handoff.clock.now(), calendar.tz, calendar)
        after_close = await retention.last_week(uow, req.team_id, handoff.clock.now())
    return scoreboard_text(board), [*scoreboard_blocks(board), *retention_blocks(after_close, [], mine=True)]


async def show_targets(req: CommandRequest) -> None:
    text, blocks = await _scoreboard(req)
    await req.ack(text=text, blocks=blocks, response_type="ephemeral")


async def show_targets_public(req: CommandRequest) -> None:
    text, blocks = await _scoreboard(req)
    await req.ack(text=text, blocks=blocks, response_type="in_channel")


async def targets_help(req: CommandRequest) -> None:
    await req.ack(text=messages.TARGETS_HELP.format(metrics=", ".join(f"`{k}`" for k in CATALOGUE)))


def saved_text(saved: TargetSet) -> str:
    previous = f" (was {format_value(saved.metric, saved.previous)})" if saved.previous is not None else ""
    return messages.TARGET_SAVED.format(
        metric=saved.metric.label,
        scope=scope_text(saved.scope),
        period=saved.period.label,
        value=format_value(saved.metric, saved.value),
        previous=previous,
    )


async def set_target_command(req: CommandRequest) -> None:
    if not req.args:
        await req.require_admin()
        await req.ack()
        # straight after the ack: the trigger_id lives 3 s
        await req.client.views_open(trigger_id=req.trigger_id, view=target_modal())
        return
    async with req.handoff.open_context(req.team_id) as ctx:
        saved = await set_target_from_text(ctx, user_id=req.user_id, args=req.args)
    await req.ack(text=saved_text(saved))


def reported_text(done: Reported) -> str:
    return messages.TARGET_REPORTED.format(
        metric=done.metric.label,
        value=format_value(done.metric, done.value),
        scope=scope_text(done.scope),
        period=done.period.label,
        target=format_value(done.metric, done.target),
    )


async def report_command(req: CommandRequest) -> None:
    async with req.handoff.open_context(req.team_id) as ctx:
        done = await report_metric(ctx, user_id=req.user_id, args=req.args)
    await req.ack(text=reported_text(done))


async def on_target_form(req: SubmissionRequest) -> View:
    values = req.values
    async with req.transaction() as ctx:
        saved = await set_target_from_form(
            ctx,
            user_id=req.user_id,
            metric_text=values.get(BlockId.METRIC.value),
            manual_name=values.get(BlockId.MANUAL_METRIC.value),
            value_text=values.get(BlockId.TARGET_VALUE.value),
            period_text=values.get(BlockId.PERIOD.value),
            scope_text=values.get(BlockId.SEGMENT.value),
        )
    return target_saved_view(saved_text(saved))
