"""Intake from Slack: `/lead` opens the form, `/lead <text>` is a quick add, the form's submission.

Other modules add `/lead mine|find|...` on the same router; this one owns the fallback.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot import messages
from bot.domain.errors import InvalidInput
from bot.domain.lead_input import parse_lead
from bot.domain.quick_add import QuickAddError, parse_quick_add
from bot.handlers.router import CommandRequest, CommandRouter
from bot.ids import BlockId, CallbackId, Command
from bot.services.intake import IntakeResult, NoChannel, submit_lead
from bot.slack.blocks.lead_card import display_name
from bot.slack.blocks.lead_modal import form_errors, lead_data_from_form, new_lead_modal
from bot.slack.mrkdwn import channel_link, escape, mention
from bot.slack.payloads import view_team_user, view_values

log = logging.getLogger(__name__)


def register(app: AsyncApp, routers: dict[Command, CommandRouter]) -> None:
    routers[Command.LEAD].fallback(lead_command)
    app.view(CallbackId.LEAD_NEW.value)(on_lead_form)


def confirmation(result: IntakeResult) -> str:
    lead = result.lead
    who = escape(display_name(lead))
    channel = channel_link(lead.channel_id)
    if result.status == "duplicate":
        return messages.LEAD_DUPLICATE.format(who=who, lead_id=lead.id, channel=channel)
    if lead.assignee_id:
        return messages.LEAD_CREATED_ASSIGNED.format(
            who=who, channel=channel, lead_id=lead.id, owner=mention(lead.assignee_id)
        )
    return messages.LEAD_CREATED.format(who=who, channel=channel, lead_id=lead.id)


async def lead_command(req: CommandRequest) -> None:
    if not req.args:
        await req.ack()
        # views.open right after the ack, while the trigger_id (3 s, single use) is fresh
        await req.client.views_open(
            trigger_id=req.trigger_id, view=new_lead_modal(origin_channel=req.channel_id)
        )
        return
    try:
        fields = parse_quick_add(req.args)
    except QuickAddError as exc:
        await req.ack(text=messages.LEAD_USAGE.format(why=exc))
        return
    data = parse_lead(fields)  # InvalidInput → the router answers with the field errors
    try:
        async with req.handoff.open_context(req.team_id) as ctx:
            result = await submit_lead(ctx, data, origin="slack", actor_id=req.user_id)
    except NoChannel:
        await req.ack(text=messages.LEAD_NO_CHANNEL)
        return
    await req.ack(text=confirmation(result))


async def on_lead_form(ack: AsyncAck, body: dict[str, Any], context: Any) -> None:
    handoff = context["handoff"]
    team_id, user_id = view_team_user(body)
    values = view_values(body.get("view") or {})
    raw, errors = lead_data_from_form(values)
    typed_source = bool(values.get(BlockId.SOURCE_OTHER.value))
    try:
        data = parse_lead(raw)
    except InvalidInput as exc:
        errors = {**form_errors(exc.errors, typed_source=typed_source), **errors}
        data = None
    if errors or data is None:
        await ack(response_action="errors", errors=errors)
        return
    try:
        async with handoff.open_context(team_id) as ctx:
            result = await submit_lead(ctx, data, origin="slack", actor_id=user_id)
            # the confirmation goes by DM through the outbox, in the same transaction as the lead
            await ctx.notifier.dm(team_id, user_id, confirmation(result))
    except NoChannel:
        await ack(response_action="errors", errors={BlockId.EMAIL.value: messages.LEAD_NO_CHANNEL[:150]})
        return
    await ack()
