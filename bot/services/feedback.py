"""Sales' verdict on a handoff (accept / reject / release) and the feedback that goes back to
marketing: one post in the marketing channel and one reply in the card's thread per verdict,
queued in the same transaction as the verdict itself, so a verdict is announced exactly once."""

from __future__ import annotations

from bot import messages
from bot.domain.errors import HandoffError, InvalidInput
from bot.domain.events import EventKind
from bot.domain.lead import Status
from bot.domain.reasons import NURTURE_REASON, OTHER
from bot.observability import metrics
from bot.services.context import Ctx
from bot.services.lifecycle import check_allowed, load_lead, transition
from bot.slack.blocks.verdicts import Verdict, release_note, verdict_message
from bot.storage.models import Lead

MAX_COMMENT = 2000
MAX_DETAIL = 500


class NotClaimed(HandoffError):
    """A verdict needs an owner: the lead must be claimed first."""

    def __init__(self) -> None:
        super().__init__(messages.VERDICT_NOT_CLAIMED)


def _quality(value: object) -> int:
    try:
        quality = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput({"quality": messages.QUALITY_REQUIRED}) from None
    if not 1 <= quality <= 5:
        raise InvalidInput({"quality": messages.QUALITY_REQUIRED})
    return quality


def _text(value: object, *, field: str, limit: int) -> str | None:
    text = str(value).strip() if value is not None else ""
    if len(text) > limit:
        raise InvalidInput({field: messages.TOO_LONG.format(limit=limit)})
    return text or None


async def verdict_target(ctx: Ctx, lead_id: int, *, user_id: str, wanted: Status) -> Lead:
    """The lead a verdict (or release) would apply to, after the same checks the submission
    makes: used before opening a modal so nobody fills in a form they may not submit."""
    lead = await load_lead(ctx, lead_id)
    if lead.status == Status.NEW.value:
        raise NotClaimed()
    await check_allowed(ctx, lead, wanted, user_id)
    return lead


async def accept_lead(
    ctx: Ctx, lead_id: int, *, user_id: str, quality: object, comment: object = None, origin: str = "slack"
) -> tuple[Lead, bool]:
    """Sales-accept the lead with a quality rating; returns (lead, changed)."""
    lead = await verdict_target(ctx, lead_id, user_id=user_id, wanted=Status.ACCEPTED)
    if lead.status == Status.ACCEPTED.value:
        return lead, False
    rating = _quality(quality)
    note = _text(comment, field="comment", limit=MAX_COMMENT)
    now = ctx.now
    changed = await transition(
        ctx,
        lead,
        Status.ACCEPTED,
        actor_id=user_id,
        origin=origin,
        kind=EventKind.ACCEPTED,
        values={"quality": rating, "verdict_comment": note, "verdict_at": now},
        data={"quality": rating, "comment": note},
    )
    if changed:
        await _announce(ctx, lead, Verdict(accepted=True, actor_id=user_id, quality=rating, comment=note))
    return lead, changed


async def reject_lead(
    ctx: Ctx,
    lead_id: int,
    *,
    user_id: str,
    reason: object,
    detail: object = None,
    quality: object = None,
    comment: object = None,
    origin: str = "slack",
) -> tuple[Lead, bool]:
    """Reject with a reason from the workspace's list ("Other" needs words); "not ready" goes
    to marketing's nurture list. Returns (lead, changed)."""
    lead = await verdict_target(ctx, lead_id, user_id=user_id, wanted=Status.REJECTED)
    if lead.status == Status.REJECTED.value:
        return lead, False
    reasons = await ctx.uow.settings.reject_reasons(ctx.team_id)
    errors: dict[str, str] = {}
    code = str(reason or "").strip()
    if not code:
        errors["reason"] = messages.REASON_REQUIRED
    elif code not in reasons:
        errors["reason"] = messages.REASON_UNKNOWN
    why: str | None = None
    try:
        why = _text(detail, field="reason_other", limit=MAX_DETAIL)
        if code == OTHER and not why:
            errors["reason_other"] = messages.REASON_OTHER_REQUIRED
    except InvalidInput as exc:
        errors.update(exc.errors)
    rating = None
    try:
        rating = _quality(quality)
    except InvalidInput as exc:
        errors.update(exc.errors)
    note = None
    try:
        note = _text(comment, field="comment", limit=MAX_COMMENT)
    except InvalidInput as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    now = ctx.now
    nurture = code == NURTURE_REASON
    changed = await transition(
        ctx,
        lead,
        Status.REJECTED,
        actor_id=user_id,
        origin=origin,
        kind=EventKind.REJECTED,
        values={
            "quality": rating,
            "verdict_comment": note,
            "verdict_at": now,
            "reject_reason": code,
            "reject_detail": why,
            "nurture": nurture,
        },
        data={"reason": code, "detail": why, "quality": rating, "comment": note, "nurture": nurture},
    )
    if changed:
        verdict = Verdict(
            accepted=False,
            actor_id=user_id,
            quality=rating,
            comment=note,
            reason=reasons.get(code, code),
            detail=why,
            nurture=nurture,
        )
        await _announce(ctx, lead, verdict)
    return lead, changed


async def release_lead(ctx: Ctx, lead_id: int, *, user_id: str, origin: str = "slack") -> tuple[Lead, bool]:
    """Give the lead back to its channel: no owner, the card offers Claim again."""
    lead = await load_lead(ctx, lead_id)
    if lead.status == Status.NEW.value:
        return lead, False  # released already (a double click)
    lead = await verdict_target(ctx, lead_id, user_id=user_id, wanted=Status.NEW)
    previous_owner = lead.owner_id
    changed = await transition(
        ctx,
        lead,
        Status.NEW,
        actor_id=user_id,
        origin=origin,
        kind=EventKind.RELEASED,
        values={"owner_id": None},
        data={"owner": previous_owner},
    )
    if changed:
        metrics.verdicts.labels("released").inc()
        await ctx.notifier.reply_to_lead(lead, release_note(actor_id=user_id, owner_id=previous_owner))
    return lead, changed


async def _announce(ctx: Ctx, lead: Lead, verdict: Verdict) -> None:
    metrics.verdicts.labels("accepted" if verdict.accepted else "rejected").inc()
    text, blocks = verdict_message(lead, verdict)
    await ctx.notifier.reply_to_lead(lead, text, blocks)
    marketing = await ctx.channel_setting("marketing_channel")
    if marketing:
        await ctx.notifier.post(ctx.team_id, marketing, text, blocks, lead_id=lead.id)


async def nurture_list(ctx: Ctx, limit: int = 30) -> tuple[list[Lead], dict[str | None, int]]:
    """Leads flagged for nurture (newest first) and how many there are per channel."""
    return await ctx.uow.reports.nurture(ctx.team_id, limit)
