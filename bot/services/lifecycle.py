"""The lead's life after the claim: every move is a compare-and-set on the status, checked against
the status machine, by the owner (or an admin), recorded as a lead_event and shown on the card."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from bot import messages
from bot.domain.errors import IllegalTransition, InvalidInput, LeadNotFound, NotAllowed
from bot.domain.events import EventKind
from bot.domain.lead import ENTERED_AT_COLUMN, STAGES, Status, check_move
from bot.services import accounts, crm
from bot.services.context import Ctx
from bot.slack.blocks.verdicts import outcome_message, stage_note
from bot.slack.mrkdwn import mention
from bot.storage.models import Lead

MAX_REASON = 500
MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)


async def load_lead(ctx: Ctx, lead_id: int) -> Lead:
    lead = await ctx.uow.leads.get(ctx.team_id, lead_id)
    if lead is None:
        raise LeadNotFound(lead_id)
    return lead


async def require_owner(ctx: Ctx, lead: Lead, user_id: str) -> None:
    """Only the owner or an admin changes a claimed lead (checked again on every submission:
    a modal's contents can be forged)."""
    if user_id == lead.owner_id or await ctx.is_admin(user_id):
        return
    raise NotAllowed(messages.ONLY_OWNER.format(owner=mention(lead.owner_id)))


async def check_allowed(ctx: Ctx, lead: Lead, wanted: Status, user_id: str) -> None:
    """Legal move first (its message says more), then the role."""
    if lead.status != wanted.value:
        check_move(lead.status, wanted.value)
    await require_owner(ctx, lead, user_id)


async def transition(
    ctx: Ctx,
    lead: Lead,
    wanted: Status,
    *,
    actor_id: str,
    origin: str,
    kind: EventKind,
    values: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> bool:
    """Move the lead to `wanted` by compare-and-set. False when it already is there (a double
    click or a replayed submission): nothing changes and nothing is announced twice."""
    now = ctx.now
    for _ in range(3):
        current = lead.status
        if current == wanted.value:
            return False
        check_move(current, wanted.value)
        update: dict[str, Any] = {"status": wanted.value, "updated_at": now, "stage_changed_at": now}
        column = ENTERED_AT_COLUMN.get(wanted)
        if column and getattr(lead, column) is None:  # entered-at columns keep the first time
            update[column] = now
        if wanted in STAGES and lead.contacted_at is None:
            # any later stage means the first contact happened (speed to lead counts it)
            update["contacted_at"] = now
        update.update(values or {})
        won = await ctx.uow.leads.compare_and_set(ctx.team_id, lead.id, expected=[current], values=update)
        await ctx.uow.leads.refresh(lead)
        if not won:
            continue  # someone moved it meanwhile: judge the move again from where it is now
        await ctx.uow.events.append(
            team_id=ctx.team_id,
            lead_id=lead.id,
            kind=kind,
            actor_id=actor_id,
            origin=origin,
            at=now,
            data={"from": current, "to": wanted.value, **(data or {})},
        )
        await ctx.notifier.refresh_lead_card(lead)
        await crm.lead_moved(ctx, kind, lead)
        return True
    raise IllegalTransition(lead.status, wanted.value)


async def find_leads(ctx: Ctx, query: str, limit: int = 20) -> list[Lead]:
    """Leads of this workspace whose email, name or company contains `query`."""
    return await ctx.uow.leads.search(ctx.team_id, query[:200], limit)


# -- stages after acceptance ----------------------------------------------------------------


def parse_amount(text: object) -> Decimal:
    raw = str(text or "").strip().replace(" ", "").replace("\u00a0", "")
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d{1,2})?", raw):
        raw = raw.replace(",", "")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput({"amount": messages.AMOUNT_INVALID}) from None
    if (
        not amount.is_finite()
        or amount < 0
        or amount > MAX_AMOUNT
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise InvalidInput({"amount": messages.AMOUNT_INVALID})
    return amount


def parse_currency(text: object) -> str:
    code = str(text or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise InvalidInput({"currency": messages.CURRENCY_INVALID})
    return code


def clean_reason(text: object, *, field: str, required_message: str) -> str:
    reason = str(text or "").strip()
    if not reason:
        raise InvalidInput({field: required_message})
    if len(reason) > MAX_REASON:
        raise InvalidInput({field: messages.TOO_LONG.format(limit=MAX_REASON)})
    return reason


async def move_stage(
    ctx: Ctx,
    lead_id: int,
    stage: Status,
    *,
    user_id: str,
    origin: str = "slack",
    amount: object = None,
    currency: object = None,
    lost_reason: object = None,
) -> tuple[Lead, bool]:
    """contacted → meeting booked → opportunity → won (amount, currency) / lost (reason).
    Returns (lead, changed)."""
    lead = await load_lead(ctx, lead_id)
    await check_allowed(ctx, lead, stage, user_id)
    values: dict[str, Any] = {}
    data: dict[str, Any] = {}
    if stage is Status.WON and lead.status != stage.value:
        errors: dict[str, str] = {}
        try:
            values["won_amount"] = parse_amount(amount)
        except InvalidInput as exc:
            errors.update(exc.errors)
        try:
            values["currency"] = parse_currency(currency)
        except InvalidInput as exc:
            errors.update(exc.errors)
        if errors:
            raise InvalidInput(errors)
        data = {"amount": str(values["won_amount"]), "currency": values["currency"]}
    if stage is Status.LOST and lead.status != stage.value:
        values["lost_reason"] = clean_reason(
            lost_reason, field="lost_reason", required_message=messages.LOST_REASON_REQUIRED
        )
        data = {"reason": values["lost_reason"]}
    changed = await transition(
        ctx, lead, stage, actor_id=user_id, origin=origin, kind=EventKind.STAGE, values=values, data=data
    )
    if changed:
        if stage is Status.WON:
            # the customer is the closer's to keep (bot/services/accounts.py)
            await accounts.on_won(ctx, lead, closer_id=lead.owner_id or user_id)
        if stage in (Status.WON, Status.LOST):
            # the outcome is marketing's result too: they hear it where they heard the verdict
            text, blocks = outcome_message(lead, actor_id=user_id)
            await ctx.notifier.reply_to_lead(lead, text, blocks)
            marketing = await ctx.channel_setting("marketing_channel")
            if marketing:
                await ctx.notifier.post(ctx.team_id, marketing, text, blocks, lead_id=lead.id)
        else:
            await ctx.notifier.reply_to_lead(lead, stage_note(lead, actor_id=user_id))
    return lead, changed
