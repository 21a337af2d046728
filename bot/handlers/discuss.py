"""/discuss and the discussion buttons and modal. Thin: parse, call one service, reply."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.views import View

from bot import messages
from bot.domain.errors import HandoffError, NotFound
from bot.handlers.interactions import ClickRequest, InteractionRouter, SubmissionRequest
from bot.handlers.router import CommandRequest, CommandRouter
from bot.ids import ActionId, BlockId, CallbackId, Command
from bot.services import discussions, workspace_settings
from bot.services.teams import side_of
from bot.slack.blocks.discussion import ANONYMOUS_VALUE, answer_modal, questions_text, thanks_modal
from bot.slack.blocks.lead_card import slack_date
from bot.slack.mrkdwn import channel_link, escape
from bot.slack.payloads import as_typed, channel_ref


def register(routers: dict[Command, CommandRouter], interactions: InteractionRouter) -> None:
    discuss = routers[Command.DISCUSS]
    discuss.sub("recap")(recap_command)
    discuss.sub("questions", "question")(questions_command)
    discuss.sub("schedule")(schedule_command)
    discuss.sub("help")(help_command)
    discuss.fallback(start_command)
    interactions.click(ActionId.SHARE_THOUGHTS)(on_share_thoughts)
    interactions.click(ActionId.PLUS_ONE)(on_plus_one)
    interactions.submission(CallbackId.DISCUSSION_ANSWER, errors_at=BlockId.ANSWER)(on_answer_submitted)


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
            ctx, channel_id=channel, question=as_typed(req.args) or None, started_by=req.user_id
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
            question = await discussions.add_question(ctx, as_typed(rest), by=req.user_id)
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
    async with req.handoff.open_context(req.team_id) as ctx:
        tz = str(await ctx.tz())
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
            spec = await workspace_settings.set_channel_schedule(
                ctx, by=req.user_id, channel=channel, spec=" ".join(words)
            )
            text = (
                messages.DISCUSS_SCHEDULE_OFF.format(channel=channel_link(channel))
                if spec == "off"
                else messages.DISCUSS_SCHEDULE_SET.format(channel=channel_link(channel), when=spec, tz=tz)
            )
    await req.ack(text=text)


async def help_command(req: CommandRequest) -> None:
    await req.ack(text=messages.DISCUSS_HELP)


# --------------------------------------------------------------------------- buttons and modal


async def on_share_thoughts(req: ClickRequest) -> None:
    if not req.click.value.isdigit():
        return
    async with req.transaction() as ctx:
        prompt = await discussions.open_prompt(ctx, int(req.click.value))
    await req.open_view(answer_modal(prompt_id=prompt.id, question=prompt.text))


async def on_answer_submitted(req: SubmissionRequest) -> View:
    if not req.metadata.isdigit():
        raise NotFound(messages.DISCUSS_NOT_FOUND)
    anonymous = ANONYMOUS_VALUE in (req.values.get(BlockId.ANONYMOUS.value) or [])
    side = await side_of(req.handoff, req.team_id, req.user_id, now=req.handoff.clock.now())
    async with req.transaction() as ctx:
        await discussions.submit_answer(
            ctx,
            int(req.metadata),
            user_id=req.user_id,
            side=side,
            text=req.values.get(BlockId.ANSWER.value),
            anonymous=anonymous,
        )
    return thanks_modal(anonymous=anonymous)


async def on_plus_one(req: ClickRequest) -> None:
    if not req.click.value.isdigit():
        return
    async with req.transaction() as ctx:
        await discussions.toggle_vote(ctx, int(req.click.value), user_id=req.user_id)
