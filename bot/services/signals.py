"""Customer signals: marketing's engagement on an existing customer (a webinar, a guide, a trial)
is not a new lead; it goes to the account owner as a card (Reach out / Not now / Tell marketing
why), the first few a day at once and the rest in one batch per owner at the day's close.
A signal for a company that is no customer is a lead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import messages
from bot.domain.accounts import AccountRef, account_key, match_account
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.lead_input import LeadIn
from bot.services.business_calendar import load_calendar
from bot.services.context import Ctx
from bot.services.intake import IntakeResult, NoChannel, submit_lead
from bot.slack.blocks.signals import outcome_message
from bot.slack.mrkdwn import mention
from bot.storage.models import Account, CustomerSignal

if TYPE_CHECKING:
    from bot.services.runtime import Runtime

JOB_NAME = "customer_signals"
EVERY = timedelta(minutes=15)
REACH_OUT, NOT_NOW = "reach_out", "not_now"
MAX_ACTIVITY = 200


@dataclass(frozen=True)
class Received:
    signal: CustomerSignal | None = None  # a signal for a customer
    lead: IntakeResult | None = None  # else: treated as a lead
    batched: bool = False


def every_quarter_hour(handoff: Runtime) -> BaseTrigger:
    return IntervalTrigger(seconds=EVERY.total_seconds(), timezone=handoff.settings.tz)


def activity_of(raw: object, data: LeadIn) -> str:
    text = str(raw or "").strip() or data.campaign or data.source or ""
    if not text:
        raise InvalidInput({"activity": "say what the customer did, e.g. “attended the pricing webinar”"})
    return text[:MAX_ACTIVITY]


async def find_account(ctx: Ctx, *, company: str | None, email: str) -> Account | None:
    key = account_key(company=company, email=email)
    if key is not None and (found := await ctx.uow.retention.account_by_key(ctx.team_id, key)) is not None:
        return found
    candidates = await ctx.uow.retention.search_accounts(ctx.team_id, company[:200], 20) if company else []
    refs = [AccountRef(id=a.id, company=a.company, domain=a.domain) for a in candidates]
    match = match_account(refs, company=company, email=email)
    return next((a for a in candidates if match is not None and a.id == match.id), None)


async def receive(ctx: Ctx, data: LeadIn, *, activity: object, origin: str = "api") -> Received:
    what = activity_of(activity, data)
    account = await find_account(ctx, company=data.company, email=data.email)
    if account is None:
        # a signal for a company that is no customer is a lead (with what they did as its notes)
        notes = data.notes or what
        return Received(lead=await submit_lead(ctx, data.model_copy(update={"notes": notes}), origin=origin))
    signal = await ctx.uow.retention.add_signal(
        CustomerSignal(
            team_id=ctx.team_id,
            account_id=account.id,
            owner_id=account.owner_id,
            email=data.email,
            name=data.name,
            activity=what,
            source=data.source,
            created_at=ctx.now,
        )
    )
    owner = account.owner_id
    if owner is None:
        return Received(signal=signal, batched=True)  # no owner: shown in reports only
    calendar = await load_calendar(ctx.uow, ctx.settings, ctx.team_id)
    local_day = ctx.now.astimezone(calendar.tz).date()
    midnight = datetime.combine(local_day, time(0), tzinfo=calendar.tz)
    today = await ctx.uow.retention.signals_for_owner(ctx.team_id, owner, midnight)
    if today > ctx.settings.signal_cards_per_day:  # this one included: held for the day's batch
        return Received(signal=signal, batched=True)
    await ctx.uow.retention.claim_signal(ctx.team_id, signal.id, ctx.now)
    await ctx.notifier.signal_card(ctx.team_id, owner, [signal.id])
    return Received(signal=signal)


async def receive_many(
    ctx: Ctx, items: Sequence[tuple[LeadIn | InvalidInput, object]]
) -> list[Received | InvalidInput]:
    """Signals sent as items of a lead API batch (`"kind": "signal"` per item), in the caller's
    transaction: each is received as a single one would be, or is the reason it was not (an
    invalid item, no activity, a non-customer's with nowhere to hand the lead)."""
    out: list[Received | InvalidInput] = []
    for data, activity in items:
        if isinstance(data, InvalidInput):
            out.append(data)
            continue
        try:
            activity_of(activity, data)  # before anything is written
            out.append(await receive(ctx, data, activity=activity))
        except InvalidInput as exc:
            out.append(exc)
        except NoChannel:
            out.append(InvalidInput({"lead": messages.LEAD_NO_CHANNEL}))
    return out


async def send_batches(ctx: Ctx) -> int:
    """One DM per owner with the signals held back on a day, once that day's working hours are
    over. Each signal is claimed by compare-and-set, so two instances never send it twice."""
    calendar = await load_calendar(ctx.uow, ctx.settings, ctx.team_id)
    per_owner: dict[str, list[CustomerSignal]] = {}
    for signal in await ctx.uow.retention.held_signals(ctx.team_id, ctx.now):
        if signal.owner_id is None:
            continue
        day = signal.created_at.astimezone(calendar.tz).date()
        closes = calendar.window(day)[1] if calendar.is_working_day(day) else signal.created_at
        if ctx.now < closes:
            continue
        if await ctx.uow.retention.claim_signal(ctx.team_id, signal.id, ctx.now):
            per_owner.setdefault(signal.owner_id, []).append(signal)
    for owner, held in per_owner.items():
        size = ctx.settings.signal_batch_size  # 2 blocks a signal, under Slack's 50
        for start in range(0, len(held), size):
            chunk = held[start : start + size]
            await ctx.notifier.signal_card(ctx.team_id, owner, [signal.id for signal in chunk])
    return sum(len(v) for v in per_owner.values())


async def run_batches(handoff: Runtime, team_id: str, now: datetime) -> int:
    async with handoff.open_context(team_id, now=now) as ctx:
        return await send_batches(ctx)


async def answer(
    ctx: Ctx, signal_id: int, outcome: str, *, user_id: str, reason: str | None = None
) -> tuple[CustomerSignal, bool]:
    """The owner's (or an admin's) answer, recorded once and told to marketing like a verdict."""
    signal = await ctx.uow.retention.signal(ctx.team_id, signal_id)
    if signal is None:
        raise NotAllowed(messages.SIGNAL_NOT_FOUND, why=f"signal {signal_id} not found")
    if user_id != signal.owner_id and not await ctx.is_admin(user_id):
        raise NotAllowed(
            messages.SIGNAL_ONLY_OWNER.format(owner=mention(signal.owner_id)), why="not the owner"
        )
    if reason is not None:
        reason = reason.strip()[:500]
        if not reason:
            raise InvalidInput({"reason": messages.SIGNAL_REASON_REQUIRED})
    changed = await ctx.uow.retention.answer_signal(
        ctx.team_id, signal.id, outcome=outcome, by=user_id, reason=reason, now=ctx.now
    )
    if not changed:
        return signal, False
    await ctx.uow.retention.refresh(signal)
    if signal.owner_id:  # its card (or the day's batch) loses the buttons: who answered what
        card = await ctx.uow.outbox.signal_card(ctx.team_id, signal.owner_id, signal.id)
        if card is not None:
            await ctx.notifier.refresh_signal_card(ctx.team_id, signal.owner_id, card.id)
    account = await ctx.uow.retention.account(ctx.team_id, signal.account_id)
    marketing = await ctx.channel_setting("marketing_channel")
    if marketing:
        company = (account.company or account.key) if account else "?"
        await ctx.notifier.post(ctx.team_id, marketing, *outcome_message(signal, company))
    return signal, True
