"""Intake: validated leads in, deduplicated, routed, stored with their events and cards in one go.

One code path for one lead and for a thousand, in three steps:
  * plan: look up every dedupe key and recent email of the batch (two queries), then decide in
    memory (bot.domain.intake_plan): duplicate, new and where it goes, or nowhere to go;
  * assign: take the batch's places in each rule's round robin, one atomic UPDATE per rule;
  * persist: leads, events and outbox rows as three multi-row INSERTs.
All of it runs inside a savepoint. If a concurrent writer takes one of the batch's dedupe keys first
(unique violation), the batch falls back to one savepoint per lead, so a lead is always written
whole or not at all and a bad one never takes its batch-mates down with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot import messages
from bot.domain.bursts import bulk_channels as channels_in_bulk
from bot.domain.errors import InvalidInput
from bot.domain.events import EventKind
from bot.domain.intake_plan import Fate, Planned, plan_batch
from bot.domain.lead import Status
from bot.domain.lead_input import LeadIn
from bot.domain.outbox import Lane
from bot.domain.routing import RuleSpec, is_hot, is_hot_lead
from bot.domain.webhooks import EventType
from bot.observability import metrics
from bot.outbox.notifier import Notifier
from bot.services import routing as routing_service
from bot.services import webhooks
from bot.services.bursts import bursting
from bot.services.context import Ctx
from bot.services.offers import offered
from bot.services.routing import rule_spec
from bot.slack.mrkdwn import escape, mention, usergroup_mention
from bot.storage.models import Lead, LeadBatch
from bot.storage.uow import Conflict


@dataclass(frozen=True)
class IntakeResult:
    status: str  # created | duplicate
    lead: Lead
    reason: str | None = None


@dataclass(frozen=True)
class ItemResult:
    """What became of one lead of a batch (API request, CSV chunk)."""

    index: int
    status: str  # created | duplicate | invalid
    lead: Lead | None = None
    errors: dict[str, str] | None = None


class NoChannel(Exception):
    """No rule matched and no default sales channel is configured."""


NO_CHANNEL_MESSAGE = "no routing rule matches this lead and no default sales channel is configured"


@dataclass(frozen=True)
class Routing:
    """What routing reads, loaded once per transaction so a batch does not re-read it per lead."""

    rules: tuple[RuleSpec, ...]
    default_channel: str | None
    away: frozenset[str]


async def load_routing(ctx: Ctx) -> Routing:
    # a rule's own hot-lead score wins; the workspace's (`hot_score`, set from Slack) fills in
    hot = await ctx.uow.settings.get(ctx.team_id, "hot_score", getattr(ctx.settings, "hot_score", None))
    hot_score = hot if isinstance(hot, int) and not isinstance(hot, bool) else None
    return Routing(
        rules=tuple(rule_spec(r, hot_score) for r in await ctx.uow.rules.enabled(ctx.team_id)),
        default_channel=await ctx.channel_setting("sales_channel"),
        away=frozenset(await ctx.uow.members.away_users(ctx.team_id)),
    )


async def submit_lead(
    ctx: Ctx,
    data: LeadIn,
    *,
    origin: str,
    actor_id: str | None = None,
    routing: Routing | None = None,
) -> IntakeResult:
    """Create the lead (or recognise it as a resubmission). Caller owns the transaction.
    Raises NoChannel when there is nowhere to post it."""
    [result] = await _write(ctx, [(0, data)], origin=origin, actor_id=actor_id, routing=routing)
    metrics.lead_submitted(origin, result.status)
    if result.status == "invalid":
        raise NoChannel
    assert result.lead is not None
    reason = "already handed over" if result.status == "duplicate" else None
    return IntakeResult(status=result.status, lead=result.lead, reason=reason)


async def submit_many(
    ctx: Ctx,
    items: Sequence[LeadIn | InvalidInput],
    *,
    origin: str,
    actor_id: str | None = None,
) -> list[ItemResult]:
    """Submit several leads in the caller's transaction; results come back in input order."""
    results = {
        i: ItemResult(index=i, status="invalid", errors=item.errors)
        for i, item in enumerate(items)
        if isinstance(item, InvalidInput)
    }
    valid = [(i, item) for i, item in enumerate(items) if isinstance(item, LeadIn)]
    if valid:
        routing = await load_routing(ctx)
        written = await _write_batch(ctx, valid, origin=origin, actor_id=actor_id, routing=routing)
        results.update((r.index, r) for r in written)
    for result in results.values():
        metrics.lead_submitted(origin, result.status)
    return [results[i] for i in range(len(items))]


async def _write_batch(
    ctx: Ctx, batch: Sequence[tuple[int, LeadIn]], *, origin: str, actor_id: str | None, routing: Routing
) -> list[ItemResult]:
    """The whole batch in one savepoint; on a dedupe-key race, one savepoint per lead."""
    try:
        async with ctx.uow.savepoint():
            return await _write(ctx, batch, origin=origin, actor_id=actor_id, routing=routing)
    except Conflict:
        pass
    # Someone else stored one of these dedupe keys since we looked. One savepoint per lead now;
    # a lead that collides again is looked up afresh and attaches as a duplicate.
    written: list[ItemResult] = []
    for item in batch:
        for attempt in range(2):
            try:
                async with ctx.uow.savepoint():
                    one = await _write(ctx, [item], origin=origin, actor_id=actor_id, routing=routing)
                break
            except Conflict:
                if attempt:
                    raise
        written.extend(one)
    return written


Plan = Planned[Lead]


async def _write(
    ctx: Ctx,
    batch: Sequence[tuple[int, LeadIn]],
    *,
    origin: str,
    actor_id: str | None,
    routing: Routing | None,
) -> list[ItemResult]:
    routing = routing or await load_routing(ctx)
    plans = await _plan(ctx, batch, routing)
    plans = await _assign(ctx, plans, routing)
    return await _persist(ctx, plans, origin=origin, actor_id=actor_id)


async def _plan(ctx: Ctx, batch: Sequence[tuple[int, LeadIn]], routing: Routing) -> list[Plan]:
    """Dedupe against stored leads (two queries for the batch) and route, in memory."""
    leads, window = ctx.uow.leads, ctx.settings.duplicate_window_days
    stored = await leads.by_dedupe_keys(ctx.team_id, [data.dedupe_key() for _, data in batch])
    recent: dict[str, Lead] = {}
    if window > 0:
        since = ctx.now - timedelta(days=window)
        recent = await leads.latest_by_emails(ctx.team_id, [data.email for _, data in batch], since)
    return plan_batch(
        batch,
        stored_by_key=stored,
        recent_by_email=recent,
        rules=routing.rules,
        default_channel=routing.default_channel,
        dedupe_by_email=window > 0,
    )


async def _assign(ctx: Ctx, plans: list[Plan], routing: Routing) -> list[Plan]:
    """Each new lead's rep (weights, caps, turns, availability, the account's owner first) and why,
    under each rule's row lock (bot/services/routing.py)."""
    return await routing_service.assign_batch(ctx, plans, ctx.rng)


async def _persist(ctx: Ctx, plans: list[Plan], *, origin: str, actor_id: str | None) -> list[ItemResult]:
    """New leads in one INSERT, their cards and the duplicates' thread notes in another (the
    notifier's bulk form), every lead's event in a third; one result per plan, in order. Leads that
    came in bulk join a batch: one summary card, the leads listed in its thread."""
    bulk_channels = _bulk_channels(ctx, plans)
    # one-lead requests that add up to bulk: a marketing tool posting a request per lead
    bulk_channels |= await bursting(ctx, _per_channel(plans), already=bulk_channels)
    if origin == "csv":
        # an import's last, small chunk joins the summary of the chunks before it
        bulk_channels |= await _importing(ctx, plans, bulk_channels)
    lanes = {p.index: _lane(ctx, p, bulk_channels) for p in plans if p.fate is Fate.NEW}
    batches = await _batches(ctx, plans, lanes, bulk_channels)
    rows = [
        _lead_row(ctx, p, origin=origin, actor_id=actor_id, batch=batches.get(p.index))
        for p in plans
        if p.fate is Fate.NEW
    ]
    stored = await ctx.uow.leads.add_many(rows)
    await routing_service.record(
        ctx, [(stored[p.data.dedupe_key()], p.why) for p in plans if p.fate is Fate.NEW and p.why is not None]
    )
    # a note on an earlier lead nobody is waiting for: a re-import's notes must not crowd out cards
    in_bulk = origin == "csv" or len(plans) > ctx.settings.bulk_threshold
    resubmitted_lane = Lane.BULK if in_bulk else Lane.SINGLE
    events: list[dict[str, Any]] = []
    results: list[ItemResult] = []
    listed: dict[int, tuple[LeadBatch, list[int]]] = {}
    notices: dict[tuple[str, str], list[tuple[Lead, str, str]]] = {}
    async with ctx.notifier.bulk() as notifier:
        for plan in plans:
            if plan.fate is Fate.UNROUTABLE:
                results.append(
                    ItemResult(index=plan.index, status="invalid", errors={"lead": NO_CHANNEL_MESSAGE})
                )
                continue
            if plan.fate is Fate.NEW:
                lead = stored[plan.data.dedupe_key()]
                events.append(_created(ctx, lead, plan, origin=origin, actor_id=actor_id))
                batch = batches.get(plan.index)
                if batch is not None:
                    listed.setdefault(batch.id, (batch, []))[1].append(lead.id)
                elif plan.rule is not None and plan.rule.assigns and plan.assignee:
                    await offered(ctx, lead, plan.assignee, why=_offer_why(plan), lane=lanes[plan.index])
                    notices.setdefault((lead.channel_id or "", plan.rule.name), []).append(
                        (lead, plan.assignee, _offer_why(plan))
                    )
                else:
                    await _announce(notifier, lead, plan, lane=lanes[plan.index])
                results.append(ItemResult(index=plan.index, status="created", lead=lead))
                continue
            target = plan.existing if plan.existing is not None else _twin(stored, plans, plan)
            events.append(_resubmitted(ctx, target, plan.data, origin=origin, actor_id=actor_id))
            where = (
                " · ".join(escape(p) for p in (plan.data.source, plan.data.campaign) if p)
                or "no source given"
            )
            await notifier.reply_to_lead(
                target, f":repeat: Submitted again ({where}) via {origin}.", lane=resubmitted_lane
            )
            results.append(ItemResult(index=plan.index, status="duplicate", lead=target))
        for (channel, rule_name), offers in notices.items():
            await notifier.post(ctx.team_id, channel, _offer_notice(offers, rule_name), lane=Lane.SINGLE)
        for batch, lead_ids in listed.values():
            await notifier.list_in_batch(batch, lead_ids)
    await ctx.uow.events.append_many(events)
    for result in results:
        if result.status == "created" and result.lead is not None:
            await webhooks.emit(ctx, EventType.LEAD_CREATED, lead=result.lead)
            await webhooks.emit(ctx, EventType.LEAD_ROUTED, lead=result.lead)
    return results


def _offer_why(plan: Plan) -> str:
    if plan.why is not None and plan.why.method == "account":
        return "account owner"
    return (
        "least loaded" if plan.rule is not None and plan.rule.distribute == "least_loaded" else "round robin"
    )


def _offer_notice(offers: list[tuple[Lead, str, str]], rule_name: str) -> str:
    """The channel's one line about leads that went straight to reps' DMs (assign mode)."""
    rule = escape(rule_name)
    if len(offers) == 1:
        [(lead, rep, why)] = offers
        name = escape(lead.name or lead.email) + (f" · {escape(lead.company)}" if lead.company else "")
        how = messages.OFFER_HOW.get(why, why)
        return messages.OFFER_NOTICE.format(lead_id=lead.id, name=name, rep=mention(rep), rule=rule, how=how)
    reps = ", ".join(mention(rep) for rep in dict.fromkeys(rep for _, rep, _ in offers))
    return messages.OFFER_NOTICE_MANY.format(count=len(offers), reps=reps, rule=rule)


BATCH_WINDOW = timedelta(minutes=15)  # the next chunk of the same import joins the same summary


def batch_label(data: LeadIn) -> str:
    return data.campaign or data.source or messages.BULK_DEFAULT_LABEL


async def _batches(
    ctx: Ctx, plans: Sequence[Plan], lanes: dict[int, Lane], bulk_channels: frozenset[str]
) -> dict[int, LeadBatch]:
    """The batch each bulk lead joins, by plan index: one per channel and source/campaign, reused
    while the same import (or burst) goes on (BATCH_WINDOW), its summary card queued or updated.
    Hot leads keep their own card; the summary counts them, also when one comes on its own in a
    burst."""
    groups: dict[tuple[str, str], list[Plan]] = {}
    hot: Counter[tuple[str, str]] = Counter()
    for plan in plans:
        if plan.fate is not Fate.NEW or plan.decision is None or plan.decision.channel_id is None:
            continue
        if plan.rule is not None and plan.rule.assigns and plan.assignee:
            continue  # straight to a rep's DM: nothing to list in the channel
        key = (plan.decision.channel_id, batch_label(plan.data))
        if lanes[plan.index] is Lane.BULK:
            groups.setdefault(key, []).append(plan)
        elif lanes[plan.index] is Lane.HOT:
            hot[key] += 1
    found: dict[int, LeadBatch] = {}
    keys = set(groups) | {key for key in hot if key[0] in bulk_channels}
    for channel, label in sorted(keys):  # locks in one order: no deadlock
        members = groups.get((channel, label), [])
        await ctx.uow.batches.lock_label(ctx.team_id, channel, label)
        batch = await ctx.uow.batches.open_batch(ctx.team_id, channel, label, ctx.now - BATCH_WINDOW)
        if batch is None and not members:
            continue  # hot leads only, and no batch of theirs to count them in
        if batch is None:
            batch = await ctx.uow.batches.add(ctx.team_id, channel, label, now=ctx.now)
            batch.hot_count = hot[(channel, label)]
            await ctx.notifier.post_batch_summary(batch)
        else:
            if hot[(channel, label)]:
                await ctx.uow.batches.add_hot(batch.id, hot[(channel, label)], now=ctx.now)
            await ctx.notifier.post_batch_summary(batch, edit=True)
        found.update((plan.index, batch) for plan in members)
    return found


def _twin(stored: dict[str, Lead], plans: list[Plan], plan: Plan) -> Lead:
    assert plan.twin is not None
    return stored[plans[plan.twin].data.dedupe_key()]


def _per_channel(plans: Sequence[Plan]) -> Counter[str]:
    return Counter(
        p.decision.channel_id for p in plans if p.fate is Fate.NEW and p.decision and p.decision.channel_id
    )


def _bulk_channels(ctx: Ctx, plans: Sequence[Plan]) -> frozenset[str]:
    """The channels this call brings leads to in bulk: more than HANDOFF_BULK_THRESHOLD new leads
    for one channel at once (an API batch, a CSV import's chunk)."""
    return channels_in_bulk(_per_channel(plans), threshold=ctx.settings.bulk_threshold)


async def _importing(ctx: Ctx, plans: Sequence[Plan], bulk: frozenset[str]) -> frozenset[str]:
    """Channels with an import's batch still open for these leads' source/campaign."""
    found: set[str] = set()
    keys = {
        (p.decision.channel_id, batch_label(p.data))
        for p in plans
        if p.fate is Fate.NEW and p.decision and p.decision.channel_id and p.decision.channel_id not in bulk
    }
    for channel, label in keys:
        if channel is not None and await ctx.uow.batches.open_batch(
            ctx.team_id, channel, label, ctx.now - BATCH_WINDOW
        ):
            found.add(channel)
    return frozenset(found)


def is_hot_plan(ctx: Ctx, plan: Plan) -> bool:
    return plan.data.priority == "high" or is_hot_lead(plan.rule, plan.data.score, ctx.settings.hot_score)


def _lane(ctx: Ctx, plan: Plan, bulk_channels: frozenset[str]) -> Lane:
    """Hot leads first, then single leads, then leads that came in bulk."""
    if is_hot_plan(ctx, plan):
        return Lane.HOT
    channel = plan.decision.channel_id if plan.decision else None
    return Lane.BULK if channel in bulk_channels else Lane.SINGLE


async def _announce(notifier: Notifier, lead: Lead, plan: Plan, *, lane: Lane) -> None:
    """The card, and for a hot lead a thread reply mentioning the rule's hot-lead user group."""
    await notifier.post_lead_card(lead, lane=lane)
    rule, score = plan.rule, plan.data.score
    if is_hot(rule, score) and rule and rule.hot_usergroup:
        text = f":fire: Hot lead (score {score}) for {usergroup_mention(rule.hot_usergroup)}"
        await notifier.reply_to_lead(lead, text, lane=lane)


def _lead_row(
    ctx: Ctx, plan: Plan, *, origin: str, actor_id: str | None, batch: LeadBatch | None = None
) -> dict[str, Any]:
    data, decision, now = plan.data, plan.decision, ctx.now
    assert decision is not None
    return {
        "team_id": ctx.team_id,
        "dedupe_key": data.dedupe_key(),
        "external_id": data.external_id,
        "email": data.email,
        "name": data.name,
        "company": data.company,
        "title": data.title,
        "phone": data.phone,
        "source": data.source,
        "campaign": data.campaign,
        "score": data.score,
        "region": data.region,
        "segment": data.segment,
        "notes": data.notes,
        "fields": data.fields,
        "submitted_by": actor_id,
        "intake_channel": origin,
        "priority": data.priority,
        "batch_id": batch.id if batch is not None else None,
        "status": Status.NEW.value,
        "assignee_id": plan.assignee,
        "rule_id": decision.rule.id if decision.rule else None,
        "route_reason": decision.explanation,
        "channel_id": decision.channel_id,
        "nurture": False,
        "created_at": now,
        "updated_at": now,
        "posted_at": None,  # set when its card (or its line in a bulk thread) is posted
    }


def _created(ctx: Ctx, lead: Lead, plan: Plan, *, origin: str, actor_id: str | None) -> dict[str, Any]:
    decision = plan.decision
    assert decision is not None
    data = {"rule": decision.rule.name if decision.rule else None, "channel": decision.channel_id}
    return _event(lead, EventKind.CREATED, actor_id, origin, ctx.now, data)


def _resubmitted(ctx: Ctx, lead: Lead, data: LeadIn, *, origin: str, actor_id: str | None) -> dict[str, Any]:
    what = {"source": data.source, "campaign": data.campaign, "external_id": data.external_id}
    return _event(lead, EventKind.RESUBMITTED, actor_id, origin, ctx.now, what)


def _event(
    lead: Lead, kind: str, actor_id: str | None, origin: str, now: Any, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "team_id": lead.team_id,
        "lead_id": lead.id,
        "kind": kind,
        "actor_id": actor_id,
        "origin": origin,
        "data": data,
        "created_at": now,
    }
