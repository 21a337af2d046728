"""Verdict and lifecycle buttons on the card, and the modals they open. Thin: parse the click or
submission, call one service, answer the person. Roles are checked on the click (so nobody fills in
a form they may not submit) and again on the submission (a modal can be forged)."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.domain.errors import HandoffError, IllegalTransition, InvalidInput, LeadNotFound
from bot.domain.lead import Status
from bot.handlers.lead_actions import tell
from bot.ids import ActionId, BlockId, CallbackId
from bot.services import feedback, lifecycle
from bot.slack.blocks.verdicts import accept_modal, lead_id_from_view, lost_modal, reject_modal, won_modal
from bot.slack.mrkdwn import channel_link
from bot.slack.payloads import extract_click, view_team_user, view_values

log = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.action(ActionId.ACCEPT.value)(on_accept)
    app.action(ActionId.REJECT.value)(on_reject)
    app.action(ActionId.RELEASE.value)(on_release)
    app.action(re.compile(rf"^{ActionId.STAGE.value}(_[a-z_]+)?$"))(on_stage)
    app.view(CallbackId.LEAD_ACCEPT.value)(on_accept_submit)
    app.view(CallbackId.LEAD_REJECT.value)(on_reject_submit)
    app.view(CallbackId.LEAD_WON.value)(on_won_submit)
    app.view(CallbackId.LEAD_LOST.value)(on_lost_submit)


def explain(exc: HandoffError) -> str:
    """A domain error as a sentence for the person who caused it."""
    if isinstance(exc, IllegalTransition):
        return messages.ILLEGAL_TRANSITION.format(
            current=Status(exc.current).label, wanted=Status(exc.wanted).label
        )
    if isinstance(exc, LeadNotFound):
        return messages.LEAD_NOT_FOUND.format(lead_id=exc.lead_id)
    return str(exc)


# -- clicks ---------------------------------------------------------------------------------


async def _open(client: AsyncWebClient, trigger_id: str, view: View) -> None:
    await client.views_open(trigger_id=trigger_id, view=view)


async def on_accept(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, context: Any
) -> None:
    await ack()
    handoff, click = context["handoff"], extract_click(body)
    if click.lead_id is None:
        return
    try:
        async with handoff.open_context(click.team_id) as ctx:
            lead = await feedback.verdict_target(
                ctx, click.lead_id, user_id=click.user_id, wanted=Status.ACCEPTED
            )
    except HandoffError as exc:
        await tell(respond, explain(exc))
        return
    if lead.status == Status.ACCEPTED.value:
        await tell(respond, messages.ALREADY_DONE.format(status=Status.ACCEPTED.label))
        return
    await _open(client, click.trigger_id, accept_modal(lead, comment_limit=feedback.MAX_COMMENT))


async def on_reject(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, context: Any
) -> None:
    await ack()
    handoff, click = context["handoff"], extract_click(body)
    if click.lead_id is None:
        return
    try:
        async with handoff.open_context(click.team_id) as ctx:
            lead = await feedback.verdict_target(
                ctx, click.lead_id, user_id=click.user_id, wanted=Status.REJECTED
            )
            reasons = await ctx.uow.settings.reject_reasons(ctx.team_id)
    except HandoffError as exc:
        await tell(respond, explain(exc))
        return
    if lead.status == Status.REJECTED.value:
        await tell(respond, messages.ALREADY_DONE.format(status=Status.REJECTED.label))
        return
    view = reject_modal(lead, reasons, detail_limit=feedback.MAX_DETAIL, comment_limit=feedback.MAX_COMMENT)
    await _open(client, click.trigger_id, view)


async def on_release(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: Any) -> None:
    await ack()
    handoff, click = context["handoff"], extract_click(body)
    if click.lead_id is None:
        return
    try:
        async with handoff.open_context(click.team_id) as ctx:
            lead, changed = await feedback.release_lead(ctx, click.lead_id, user_id=click.user_id)
    except HandoffError as exc:
        await tell(respond, explain(exc))
        return
    if changed:
        await tell(respond, messages.RELEASED.format(lead_id=lead.id, channel=channel_link(lead.channel_id)))
    else:
        await tell(respond, messages.ALREADY_DONE.format(status=Status(lead.status).label))


async def on_stage(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, context: Any
) -> None:
    await ack()
    handoff, click = context["handoff"], extract_click(body)
    try:
        stage = Status(click.argument)
    except ValueError:
        stage = None
    if click.lead_id is None or stage is None:
        return
    await change_stage(
        handoff,
        team_id=click.team_id,
        user_id=click.user_id,
        lead_id=click.lead_id,
        stage=stage,
        trigger_id=click.trigger_id,
        client=client,
        say=lambda text: tell(respond, text),
    )


async def change_stage(
    handoff: Any,
    *,
    team_id: str,
    user_id: str,
    lead_id: int,
    stage: Status,
    trigger_id: str,
    client: AsyncWebClient,
    say: Any,
    amount: object = None,
    currency: object = None,
    lost_reason: object = None,
    confirm: bool = False,
) -> None:
    """One stage move from a button or `/lead status`: Won and Lost without their details open
    a modal for them; every other move happens at once."""
    needs_form = (stage is Status.WON and amount is None) or (stage is Status.LOST and lost_reason is None)
    try:
        async with handoff.open_context(team_id) as ctx:
            if needs_form:
                lead = await lifecycle.load_lead(ctx, lead_id)
                lifecycle.check_allowed(ctx, lead, stage, user_id)
                changed = lead.status != stage.value
            else:
                lead, changed = await lifecycle.move_stage(
                    ctx,
                    lead_id,
                    stage,
                    user_id=user_id,
                    amount=amount,
                    currency=currency or "USD",
                    lost_reason=lost_reason,
                )
    except InvalidInput as exc:
        await say("\n".join(f"• {v}" for v in exc.errors.values()))
        return
    except HandoffError as exc:
        await say(explain(exc))
        return
    if not changed:
        await say(messages.ALREADY_DONE.format(status=Status(lead.status).label))
    elif needs_form:
        view = won_modal(lead) if stage is Status.WON else lost_modal(lead, limit=lifecycle.MAX_REASON)
        await _open(client, trigger_id, view)
    elif confirm:
        await say(messages.STATUS_MOVED.format(lead_id=lead.id, status=stage.label))


# -- submissions ----------------------------------------------------------------------------


async def _submit(ack: AsyncAck, body: dict[str, Any], context: Any, first_block: BlockId, call: Any) -> None:
    """Run one service for a submitted modal; field errors and refusals come back inline."""
    handoff = context["handoff"]
    view = body.get("view") or {}
    team_id, user_id = view_team_user(body)
    lead_id = lead_id_from_view(view)
    if lead_id is None:
        await ack(response_action="errors", errors={first_block.value: messages.SOMETHING_WENT_WRONG})
        return
    try:
        async with handoff.open_context(team_id) as ctx:
            await call(ctx, lead_id, user_id, view_values(view))
    except InvalidInput as exc:
        await ack(response_action="errors", errors=exc.errors)
        return
    except HandoffError as exc:
        await ack(response_action="errors", errors={first_block.value: explain(exc)})
        return
    except Exception:
        log.exception("%s submission failed", view.get("callback_id"))
        await ack(response_action="errors", errors={first_block.value: messages.SOMETHING_WENT_WRONG})
        return
    await ack()


async def on_accept_submit(ack: AsyncAck, body: dict[str, Any], context: Any) -> None:
    async def call(ctx: Any, lead_id: int, user_id: str, values: dict[str, Any]) -> None:
        await feedback.accept_lead(
            ctx,
            lead_id,
            user_id=user_id,
            quality=values.get(BlockId.QUALITY),
            comment=values.get(BlockId.COMMENT),
        )

    await _submit(ack, body, context, BlockId.QUALITY, call)


async def on_reject_submit(ack: AsyncAck, body: dict[str, Any], context: Any) -> None:
    async def call(ctx: Any, lead_id: int, user_id: str, values: dict[str, Any]) -> None:
        await feedback.reject_lead(
            ctx,
            lead_id,
            user_id=user_id,
            reason=values.get(BlockId.REASON),
            detail=values.get(BlockId.REASON_OTHER),
            quality=values.get(BlockId.QUALITY),
            comment=values.get(BlockId.COMMENT),
        )

    await _submit(ack, body, context, BlockId.REASON, call)


async def on_won_submit(ack: AsyncAck, body: dict[str, Any], context: Any) -> None:
    async def call(ctx: Any, lead_id: int, user_id: str, values: dict[str, Any]) -> None:
        await lifecycle.move_stage(
            ctx,
            lead_id,
            Status.WON,
            user_id=user_id,
            amount=values.get(BlockId.AMOUNT),
            currency=values.get(BlockId.CURRENCY),
        )

    await _submit(ack, body, context, BlockId.AMOUNT, call)


async def on_lost_submit(ack: AsyncAck, body: dict[str, Any], context: Any) -> None:
    async def call(ctx: Any, lead_id: int, user_id: str, values: dict[str, Any]) -> None:
        await lifecycle.move_stage(
            ctx, lead_id, Status.LOST, user_id=user_id, lost_reason=values.get(BlockId.LOST_REASON)
        )

    await _submit(ack, body, context, BlockId.LOST_REASON, call)
