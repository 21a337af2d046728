"""/discuss and the discussion buttons and modal. Thin: parse, call one service, reply."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.domain.errors import HandoffError, InvalidInput
from bot.handlers.lead_actions import tell
from bot.handlers.router import CommandRequest, CommandRouter
from bot.ids import ActionId, BlockId, CallbackId, Command
from bot.services import discussions
from bot.services.teams import side_of
from bot.slack.blocks.discussion import ANONYMOUS_VALUE, answer_modal, questions_text, thanks_modal
from bot.slack.blocks.lead_card import slack_date
from bot.slack.mrkdwn import channel_link, escape
from bot.slack.payloads import (
    channel_ref,
    extract_click,
    view_private_metadata,
    view_team_user,
    view_values,
)

log = logging.getLogger(__name__)


def register(app: AsyncApp, routers: dict[Command, CommandRouter]) -> None:
    discuss = routers[Command.DISCUSS]
    discuss.sub("recap")(recap_command)
    discuss.sub("questions", "question")(questions_command)
    discuss.sub("schedule")(schedule_command)
    discuss.sub("help")(help_command)
    discuss.fallback(start_command)
    app.action(ActionId.SHARE_THOUGHTS.value)(on_share_thoughts)
    app.action(ActionId.PLUS_ONE.value)(on_plus_one)
    app.view(CallbackId.DISCUSSION_ANSWER.value)(on_answer_submitted)


# --------------------------------------------------------------------------- slash command


async def _target_channel(req: CommandRequest, ctx: Any) -> str:
    channel = await ctx.channel_setting("partnership_channel")
    if channel:
        return channel
    if req.channel_id[:1] in ("C", "G"):
        return req.channel_id
    raise HandoffError(messages.DISCUSS_NO_CHANNEL)


async def start_command(req: CommandRequest) -> None:
    """`/discuss` (the week's fact or a bank question) or `/discuss <question>`."""
    async with req.handoff.open_context(req.team_id) as ctx:
        channel = await _target_channel(req, ctx)
        prompt = await discussions.start_discussion(
            ctx, channel_id=channel, question=req.args or None, started_by=req.user_id
        )
    await req.ack(
        text=messages.DISCUSS_STARTED.format(channel=channel_link(channel), when=slack_date(prompt.closes_at))
    )


async def recap_command(req: CommandRequest) -> None:
    async with req.handoff.open_context(req.team_id) as ctx:
        text = await discussions.last_recap(ctx)
    await req.ack(text=text)


async def questions_command(req: CommandRequest) -> None:
    action, _, rest = req.args.partition(" ")
    action = action.lower() or "list"
    async with req.handoff.open_context(req.team_id) as ctx:
        if action == "list":
            questions = await discussions.list_questions(ctx)
            text = questions_text([(q.id, q.text, q.times_asked) for q in questions])
        elif action == "add":
            question = await discussions.add_question(ctx, rest, by=req.user_id)
            text = messages.DISCUSS_QUESTION_ADDED.format(id=question.id, text=escape(question.text))
        elif action in ("remove", "rm", "delete"):
            question = await discussions.remove_question(ctx, rest, by=req.user_id)
            text = messages.DISCUSS_QUESTION_REMOVED.format(id=question.id, text=escape(question.text))
        else:
            text = messages.DISCUSS_QUESTIONS_USAGE
    await req.ack(text=text)


async def schedule_command(req: CommandRequest) -> None:
    """`/discuss schedule` shows; `/discuss schedule <when|off> [#channel]` (admins) changes."""
    words = req.args.split()
    channel = channel_ref(words[-1]) if words else None
    if channel:
        words = words[:-1]
    tz = req.handoff.settings.timezone
    async with req.handoff.open_context(req.team_id) as ctx:
        if not words:
            plan = await discussions.schedules(ctx)
            lines = "\n".join(f"• {channel_link(c)}: `{escape(s)}`" for c, s in plan.items())
            text = (
                messages.DISCUSS_SCHEDULE_SHOW.format(tz=tz, lines=lines)
                if plan
                else messages.DISCUSS_SCHEDULE_NONE
            )
        else:
            channel = channel or await _target_channel(req, ctx)
            spec = await discussions.set_schedule(ctx, channel, " ".join(words), by=req.user_id)
            text = (
                messages.DISCUSS_SCHEDULE_OFF.format(channel=channel_link(channel))
                if spec == "off"
                else messages.DISCUSS_SCHEDULE_SET.format(channel=channel_link(channel), when=spec, tz=tz)
            )
    await req.ack(text=text)


async def help_command(req: CommandRequest) -> None:
    await req.ack(text=messages.DISCUSS_HELP)


# --------------------------------------------------------------------------- buttons and modal


async def on_share_thoughts(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, context: Any
) -> None:
    await ack()
    handoff = context["handoff"]
    click = extract_click(body)
    if not click.value.isdigit():
        return
    try:
        async with handoff.open_context(click.team_id) as ctx:
            prompt = await discussions.open_prompt(ctx, int(click.value))
            question = prompt.text
    except HandoffError as exc:
        await tell(respond, str(exc))
        return
    # direct, not through the outbox: the trigger_id is good for 3 seconds only
    await client.views_open(
        trigger_id=click.trigger_id, view=answer_modal(prompt_id=prompt.id, question=question)
    )


async def on_answer_submitted(ack: AsyncAck, body: dict[str, Any], context: Any) -> None:
    handoff = context["handoff"]
    team_id, user_id = view_team_user(body)
    metadata = view_private_metadata(body)
    values = view_values(body.get("view") or {})
    anonymous = ANONYMOUS_VALUE in (values.get(BlockId.ANONYMOUS.value) or [])
    if not metadata.isdigit():
        await ack(response_action="errors", errors={BlockId.ANSWER.value: messages.DISCUSS_NOT_FOUND})
        return
    try:
        side = await side_of(handoff, team_id, user_id, now=handoff.clock.now())
        async with handoff.open_context(team_id) as ctx:
            await discussions.submit_answer(
                ctx,
                int(metadata),
                user_id=user_id,
                side=side,
                text=values.get(BlockId.ANSWER.value),
                anonymous=anonymous,
            )
    except InvalidInput as exc:
        await ack(response_action="errors", errors=exc.errors)
        return
    except HandoffError as exc:
        await ack(response_action="errors", errors={BlockId.ANSWER.value: str(exc)})
        return
    except Exception:
        log.exception("storing a discussion answer failed")
        await ack(response_action="errors", errors={BlockId.ANSWER.value: messages.SOMETHING_WENT_WRONG})
        return
    await ack(response_action="update", view=thanks_modal(anonymous=anonymous))


async def on_plus_one(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: Any) -> None:
    await ack()
    handoff = context["handoff"]
    click = extract_click(body)
    if not click.value.isdigit():
        return
    try:
        async with handoff.open_context(click.team_id) as ctx:
            await discussions.toggle_vote(ctx, int(click.value), user_id=click.user_id)
    except HandoffError as exc:
        await tell(respond, str(exc))
