"""Intake: validated leads in, deduplicated, routed, stored with their events and cards in one go.

One code path for one lead and for a thousand: `submit_many` looks up every dedupe key and
recent email of the batch in two queries, routes in memory, and writes leads, events and outbox
rows as three multi-row INSERTs inside a savepoint. If a concurrent writer takes one of the batch's
dedupe keys first (unique violation), the batch falls back to one savepoint per lead, so a lead is
always written whole or not at all and a bad one never takes its batch-mates down with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.domain.errors import InvalidInput
from bot.domain.events import EventKind
from bot.domain.lead import Status
from bot.domain.lead_input import LeadIn
from bot.domain.routing import Decision, LeadFacts, RuleSpec, is_hot, next_rep, route
from bot.services.context import Ctx
from bot.slack.mrkdwn import escape, usergroup_mention
from bot.storage.models import Lead, LeadEvent, RoutingRule


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


def rule_spec(rule: RoutingRule) -> RuleSpec:
    return RuleSpec(
        id=rule.id,
        name=rule.name,
        priority=rule.priority,
        channel_id=rule.channel_id,
        regions=tuple(rule.regions or ()),
        segments=tuple(rule.segments or ()),
        sources=tuple(rule.sources or ()),
        campaigns=tuple(rule.campaigns or ()),
        email_domains=tuple(rule.email_domains or ()),
        score_min=rule.score_min,
        score_max=rule.score_max,
        reps=tuple(rule.reps or ()),
        hot_usergroup=rule.hot_usergroup,
        hot_score=rule.hot_score,
    )


def facts_of(lead: LeadIn) -> LeadFacts:
    return LeadFacts(
        region=lead.region,
        segment=lead.segment,
        source=lead.source,
        campaign=lead.campaign,
        score=lead.score,
        email_domain=lead.email_domain,
    )


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
    return Routing(
        rules=tuple(rule_spec(r) for r in await ctx.uow.rules.enabled(ctx.team_id)),
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
    routing = await load_routing(ctx)
    results: dict[int, ItemResult] = {}
    valid: list[tuple[int, LeadIn]] = []
    for index, item in enumerate(items):
        if isinstance(item, InvalidInput):
            results[index] = ItemResult(index=index, status="invalid", errors=item.errors)
        else:
            valid.append((index, item))
    if valid:
        session = ctx.uow.session
        try:
            async with session.begin_nested():
                written = await _write(ctx, valid, origin=origin, actor_id=actor_id, routing=routing)
        except IntegrityError:
            # Someone else stored one of these dedupe keys since we looked. One savepoint per lead
            # now; a lead that collides again is looked up afresh and attaches as a duplicate.
            written = []
            for index, lead in valid:
                for attempt in range(2):
                    try:
                        async with session.begin_nested():
                            one = await _write(
                                ctx, [(index, lead)], origin=origin, actor_id=actor_id, routing=routing
                            )
                        break
                    except IntegrityError:
                        if attempt:
                            raise
                written.extend(one)
        results.update((r.index, r) for r in written)
    return [results[i] for i in range(len(items))]


@dataclass
class _Plan:
    index: int
    data: LeadIn
    decision: Decision | None = None
    existing: Lead | None = None  # duplicate of a stored lead
    twin: int | None = None  # duplicate of an earlier lead of this batch (its position in `plans`)
    assignee: str | None = None
    lead: Lead | None = None


async def _write(
    ctx: Ctx,
    leads: Sequence[tuple[int, LeadIn]],
    *,
    origin: str,
    actor_id: str | None,
    routing: Routing | None,
) -> list[ItemResult]:
    session, now, team = ctx.uow.session, ctx.now, ctx.team_id
    routing = routing or await load_routing(ctx)
    plans = [_Plan(index=i, data=d) for i, d in leads]

    keys = {p.data.dedupe_key() for p in plans}
    by_key = {
        lead.dedupe_key: lead
        for lead in await session.scalars(
            select(Lead).where(Lead.team_id == team, Lead.dedupe_key.in_(sorted(keys)))
        )
    }
    window = ctx.settings.duplicate_window_days
    by_email: dict[str, Lead] = {}
    if window > 0:
        emails = sorted({p.data.email for p in plans})
        recent = await session.scalars(
            select(Lead)
            .where(
                Lead.team_id == team, Lead.email.in_(emails), Lead.created_at >= now - timedelta(days=window)
            )
            .order_by(Lead.created_at.desc(), Lead.id.desc())
        )
        for lead in recent:
            by_email.setdefault(lead.email, lead)

    seen_keys: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    results: list[ItemResult | None] = [None] * len(plans)
    for pos, plan in enumerate(plans):
        key, email = plan.data.dedupe_key(), plan.data.email
        plan.existing = by_key.get(key) or by_email.get(email)
        if plan.existing is None:
            plan.twin = seen_keys.get(key, seen_emails.get(email) if window > 0 else None)
        if plan.existing is not None or plan.twin is not None:
            continue
        plan.decision = route(routing.rules, facts_of(plan.data), routing.default_channel)
        if plan.decision.channel_id is None:
            results[pos] = ItemResult(index=plan.index, status="invalid", errors={"lead": NO_CHANNEL_MESSAGE})
            continue
        seen_keys.setdefault(key, pos)
        seen_emails.setdefault(email, pos)

    new = [p for p, r in zip(plans, results, strict=True) if r is None and p.decision is not None]
    await _assign_round_robin(ctx, new, routing)
    if new:
        rows = [_lead_row(p, team=team, origin=origin, actor_id=actor_id, now=now) for p in new]
        # matched back by dedupe key (unique among `new`): asking SQLAlchemy to keep the parameters'
        # order made SQLite insert row by row, a third of a batch's time
        stored = {lead.dedupe_key: lead for lead in await session.scalars(insert(Lead).returning(Lead), rows)}
        for plan in new:
            plan.lead = stored[plan.data.dedupe_key()]

    events: list[dict[str, Any]] = []
    # cards and thread replies go in with one multi-row INSERT when the block ends
    async with ctx.notifier.bulk() as notifier:
        for pos, plan in enumerate(plans):
            if results[pos] is not None:
                continue
            if plan.lead is not None:
                decision = plan.decision
                assert decision is not None
                rule = decision.rule
                events.append(
                    _event(
                        plan.lead,
                        EventKind.CREATED,
                        actor_id,
                        origin,
                        now,
                        {"rule": rule.name if rule else None, "channel": decision.channel_id},
                    )
                )
                await notifier.post_lead_card(plan.lead)
                if is_hot(rule, plan.data.score) and rule and rule.hot_usergroup:
                    text = f":fire: Hot lead (score {plan.data.score}) for {usergroup_mention(rule.hot_usergroup)}"
                    await notifier.reply_to_lead(plan.lead, text)
                results[pos] = ItemResult(index=plan.index, status="created", lead=plan.lead)
                continue
            target = plan.existing if plan.existing is not None else plans[plan.twin].lead  # type: ignore[index]
            if target is None:  # twin of a lead that could not be routed
                results[pos] = ItemResult(
                    index=plan.index, status="invalid", errors={"lead": NO_CHANNEL_MESSAGE}
                )
                continue
            data = plan.data
            events.append(
                _event(
                    target,
                    EventKind.RESUBMITTED,
                    actor_id,
                    origin,
                    now,
                    {"source": data.source, "campaign": data.campaign, "external_id": data.external_id},
                )
            )
            where = " · ".join(escape(p) for p in (data.source, data.campaign) if p) or "no source given"
            await notifier.reply_to_lead(target, f":repeat: Submitted again ({where}) via {origin}.")
            results[pos] = ItemResult(index=plan.index, status="duplicate", lead=target)
    if events:
        await session.execute(insert(LeadEvent), events)
    return [r for r in results if r is not None]


async def _assign_round_robin(ctx: Ctx, new: list[_Plan], routing: Routing) -> None:
    """Take this batch's positions in each rule's rotation with one atomic UPDATE per rule."""
    wanted = Counter(
        p.decision.rule.id for p in new if p.decision and p.decision.rule and p.decision.rule.reps
    )
    for rule_id, count in wanted.items():
        if rule_id is None:
            continue
        session = ctx.uow.session
        await session.execute(
            update(RoutingRule)
            .where(RoutingRule.team_id == ctx.team_id, RoutingRule.id == rule_id)
            .values(rr_cursor=RoutingRule.rr_cursor + count)
            .execution_options(synchronize_session=False)
        )
        end = await session.scalar(
            select(RoutingRule.rr_cursor).where(RoutingRule.team_id == ctx.team_id, RoutingRule.id == rule_id)
        )
        cursor = int(end or 0) - count
        for plan in new:
            rule = plan.decision.rule if plan.decision else None
            if rule is not None and rule.id == rule_id:
                plan.assignee, _ = next_rep(rule.reps, cursor, set(routing.away))
                cursor += 1


def _lead_row(plan: _Plan, *, team: str, origin: str, actor_id: str | None, now: Any) -> dict[str, Any]:
    data, decision = plan.data, plan.decision
    assert decision is not None
    return {
        "team_id": team,
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
        "status": Status.NEW.value,
        "assignee_id": plan.assignee,
        "rule_id": decision.rule.id if decision.rule else None,
        "route_reason": decision.explanation,
        "channel_id": decision.channel_id,
        "nurture": False,
        "created_at": now,
        "updated_at": now,
    }


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
