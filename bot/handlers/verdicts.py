"""Verdict and lifecycle buttons on the card, and the modals they open. Thin: parse the click or
submission, call one service, answer the person (the interaction router acks and translates
domain errors). Roles are checked on the click (so nobody fills in a form they may not submit)
and again on the submission (a modal can be forged)."""

from __future__ import annotations

import re

from slack_sdk.models.views import View

from bot import messages
from bot.domain.lead import Status
from bot.handlers.interactions import ClickRequest, InteractionRouter, SubmissionRequest
from bot.ids import ActionId, BlockId, CallbackId
from bot.services import feedback, lifecycle
from bot.services.runtime import Runtime
from bot.slack.blocks.verdicts import accept_modal, lost_modal, reject_modal, won_modal
from bot.slack.mrkdwn import channel_link


def register(interactions: InteractionRouter) -> None:
    click, submission = interactions.click, interactions.submission
    click(ActionId.ACCEPT, lead=True)(on_accept)
    click(ActionId.REJECT, lead=True)(on_reject)
    click(ActionId.RELEASE, lead=True)(on_release)
    click(re.compile(rf"^{ActionId.STAGE.value}(_[a-z_]+)?$"), lead=True)(on_stage)
    submission(CallbackId.LEAD_ACCEPT, errors_at=BlockId.QUALITY, lead=True)(on_accept_submit)
    submission(CallbackId.LEAD_REJECT, errors_at=BlockId.REASON, lead=True)(on_reject_submit)
    submission(CallbackId.LEAD_WON, errors_at=BlockId.AMOUNT, lead=True)(on_won_submit)
    submission(CallbackId.LEAD_LOST, errors_at=BlockId.LOST_REASON, lead=True)(on_lost_submit)


# -- clicks ---------------------------------------------------------------------------------


async def on_accept(req: ClickRequest) -> None:
    async with req.transaction() as ctx:
        lead = await feedback.verdict_target(ctx, req.lead_id, user_id=req.user_id, wanted=Status.ACCEPTED)
    if lead.status == Status.ACCEPTED.value:
        await req.tell(messages.ALREADY_DONE.format(status=Status.ACCEPTED.label))
        return
    await req.open_view(accept_modal(lead, comment_limit=feedback.MAX_COMMENT))


async def on_reject(req: ClickRequest) -> None:
    async with req.transaction() as ctx:
        lead = await feedback.verdict_target(ctx, req.lead_id, user_id=req.user_id, wanted=Status.REJECTED)
        reasons = await ctx.uow.settings.reject_reasons(ctx.team_id)
    if lead.status == Status.REJECTED.value:
        await req.tell(messages.ALREADY_DONE.format(status=Status.REJECTED.label))
        return
    await req.open_view(
        reject_modal(lead, reasons, detail_limit=feedback.MAX_DETAIL, comment_limit=feedback.MAX_COMMENT)
    )


async def on_release(req: ClickRequest) -> None:
    async with req.transaction() as ctx:
        lead, changed = await feedback.release_lead(ctx, req.lead_id, user_id=req.user_id)
    if changed:
        await req.tell(messages.RELEASED.format(lead_id=lead.id, channel=channel_link(lead.channel_id)))
    else:
        await req.tell(messages.ALREADY_DONE.format(status=Status(lead.status).label))


async def on_stage(req: ClickRequest) -> None:
    try:
        stage = Status(req.click.argument)
    except ValueError:
        return
    await req.reply(
        await change_stage(
            req.handoff, team_id=req.team_id, user_id=req.user_id, lead_id=req.lead_id, stage=stage
        )
    )


async def change_stage(
    handoff: Runtime,
    *,
    team_id: str,
    user_id: str,
    lead_id: int,
    stage: Status,
    amount: object = None,
    currency: object = None,
    lost_reason: object = None,
    confirm: bool = False,
) -> str | View | None:
    """One stage move from a button or `/lead status`: Won and Lost without their details give
    the modal that asks for them; every other move happens at once. Returns what to answer
    (a sentence, a modal, or nothing); domain errors are the caller's to translate."""
    needs_form = (stage is Status.WON and amount is None) or (stage is Status.LOST and lost_reason is None)
    async with handoff.open_context(team_id) as ctx:
        if needs_form:
            lead = await lifecycle.load_lead(ctx, lead_id)
            await lifecycle.check_allowed(ctx, lead, stage, user_id)
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
    if not changed:
        return messages.ALREADY_DONE.format(status=Status(lead.status).label)
    if needs_form:
        return won_modal(lead) if stage is Status.WON else lost_modal(lead, limit=lifecycle.MAX_REASON)
    return messages.STATUS_MOVED.format(lead_id=lead.id, status=stage.label) if confirm else None


# -- submissions ----------------------------------------------------------------------------


async def on_accept_submit(req: SubmissionRequest) -> None:
    async with req.transaction() as ctx:
        await feedback.accept_lead(
            ctx,
            req.lead_id,
            user_id=req.user_id,
            quality=req.values.get(BlockId.QUALITY),
            comment=req.values.get(BlockId.COMMENT),
        )


async def on_reject_submit(req: SubmissionRequest) -> None:
    async with req.transaction() as ctx:
        await feedback.reject_lead(
            ctx,
            req.lead_id,
            user_id=req.user_id,
            reason=req.values.get(BlockId.REASON),
            detail=req.values.get(BlockId.REASON_OTHER),
            quality=req.values.get(BlockId.QUALITY),
            comment=req.values.get(BlockId.COMMENT),
        )


async def on_won_submit(req: SubmissionRequest) -> None:
    async with req.transaction() as ctx:
        await lifecycle.move_stage(
            ctx,
            req.lead_id,
            Status.WON,
            user_id=req.user_id,
            amount=req.values.get(BlockId.AMOUNT),
            currency=req.values.get(BlockId.CURRENCY),
        )


async def on_lost_submit(req: SubmissionRequest) -> None:
    async with req.transaction() as ctx:
        await lifecycle.move_stage(
            ctx,
            req.lead_id,
            Status.LOST,
            user_id=req.user_id,
            lost_reason=req.values.get(BlockId.LOST_REASON),
        )
