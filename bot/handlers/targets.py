"""`/targets`: the shared scoreboard, setting targets (admins), and reporting manual metrics.

Thin: parse, call one service, reply. The scoreboard is computed inline (it is a handful of
indexed aggregates, well under Slack's 3 s) and answered in the ack itself.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot import messages
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.targets import CATALOGUE, format_value
from bot.handlers.router import CommandRequest, CommandRouter
from bot.ids import BlockId, CallbackId, Command
from bot.services.targets import (
    Reported,
    TargetSet,
    build_scoreboard,
    report_metric,
    set_target_from_form,
    set_target_from_text,
)
from bot.slack.blocks.targets import (
    scope_text,
    scoreboard_blocks,
    scoreboard_text,
    target_modal,
    target_saved_view,
)
from bot.slack.payloads import view_team_user, view_values

log = logging.getLogger(__name__)

# form field → the modal's block_id, for inline errors
_FORM_BLOCKS = {
    "metric": BlockId.METRIC.value,
    "manual_metric": BlockId.MANUAL_METRIC.value,
    "target_value": BlockId.TARGET_VALUE.value,
    "period": BlockId.PERIOD.value,
    "segment": BlockId.SEGMENT.value,
}


def register(app: AsyncApp, routers: dict[Command, CommandRouter]) -> None:
    router = routers[Command.TARGETS]
    router.sub("", "show")(show_targets)
    router.sub("public")(show_targets_public)
    router.sub("set")(set_target_command)
    router.sub("report")(report_command)
    router.sub("help")(targets_help)
    app.view(CallbackId.TARGET_SET.value)(on_target_form)


async def _scoreboard(req: CommandRequest) -> tuple[str, list[Any]]:
    handoff = req.handoff
    async with handoff.uow() as uow:
        board = await build_scoreboard(uow, req.team_id, handoff.clock.now(), handoff.settings.tz)
    return scoreboard_text(board), scoreboard_blocks(board)


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
        req.require_admin()
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


async def on_target_form(ack: AsyncAck, body: dict[str, Any], context: Any) -> None:
    handoff = context["handoff"]
    team_id, user_id = view_team_user(body)
    values = view_values(body.get("view") or {})
    try:
        async with handoff.open_context(team_id) as ctx:
            saved = await set_target_from_form(
                ctx,
                user_id=user_id,
                metric_text=values.get(BlockId.METRIC.value),
                manual_name=values.get(BlockId.MANUAL_METRIC.value),
                value_text=values.get(BlockId.TARGET_VALUE.value),
                period_text=values.get(BlockId.PERIOD.value),
                scope_text=values.get(BlockId.SEGMENT.value),
            )
    except InvalidInput as exc:
        errors = {_FORM_BLOCKS.get(k, BlockId.METRIC.value): v for k, v in exc.errors.items()}
        await ack(response_action="errors", errors=errors)
        return
    except NotAllowed as exc:
        await ack(response_action="errors", errors={BlockId.METRIC.value: str(exc)})
        return
    await ack(response_action="update", view=target_saved_view(saved_text(saved)))
