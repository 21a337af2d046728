"""Managing routing rules (Slack admin commands, YAML import/export) and who is away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.domain.availability import parse_time_off, rep_zone
from bot.domain.errors import HandoffError, InvalidInput, NotFound
from bot.domain.route_syntax import RuleIn, validate_rule
from bot.domain.routing import Decision, LeadFacts, RuleSpec, route
from bot.domain.routing_why import RouteWhy
from bot.domain.simulation import PastLead, Replay, moved, replay, with_draft
from bot.services import routing as routing_service
from bot.services import setup_checklist
from bot.services.context import Ctx
from bot.services.intake import load_routing
from bot.storage.models import Lead, RoutingRule


class RuleExists(HandoffError):
    def __init__(self, name: str) -> None:
        super().__init__(f"A rule named “{name}” already exists; remove it first or pick another name.")


def rule_in(rule: RoutingRule) -> RuleIn:
    return RuleIn(
        name=rule.name,
        priority=rule.priority,
        enabled=rule.enabled,
        channel=rule.channel_id,
        regions=rule.regions,
        segments=rule.segments,
        sources=rule.sources,
        campaigns=rule.campaigns,
        email_domains=rule.email_domains,
        score_min=rule.score_min,
        score_max=rule.score_max,
        reps=list(rule.reps or []),
        hot_usergroup=rule.hot_usergroup,
        hot_score=rule.hot_score,
        manager=rule.manager_id,
        mode="assign" if rule.mode == "assign" else "claim",
        escalation=rule.escalation_mode if rule.escalation_mode in ("manager", "reassign") else None,
        weights={k: int(v) for k, v in (rule.weights or {}).items()} or None,
        distribute="least_loaded" if rule.distribute == "least_loaded" else "turn",
        cap_day=rule.cap_day,
        cap_week=rule.cap_week,
        catch_up=bool(rule.catch_up),
        hours=bool(rule.hours),
        owner_first=rule.owner_first is not False,
    )


def _apply(rule: RoutingRule, spec: RuleIn) -> None:
    rule.name = spec.name
    rule.priority = spec.priority
    rule.enabled = spec.enabled
    rule.channel_id = spec.channel
    rule.regions = spec.regions
    rule.segments = spec.segments
    rule.sources = spec.sources
    rule.campaigns = spec.campaigns
    rule.email_domains = spec.email_domains
    rule.score_min = spec.score_min
    rule.score_max = spec.score_max
    rule.reps = list(spec.reps)
    rule.hot_usergroup = spec.hot_usergroup
    rule.hot_score = spec.hot_score
    rule.manager_id = spec.manager
    rule.mode = spec.mode
    rule.escalation_mode = spec.escalation
    rule.weights = dict(spec.weights) if spec.weights else None
    rule.distribute = spec.distribute
    rule.cap_day = spec.cap_day
    rule.cap_week = spec.cap_week
    rule.catch_up = spec.catch_up
    rule.hours = spec.hours
    rule.owner_first = spec.owner_first


async def list_rules(ctx: Ctx) -> list[RoutingRule]:
    return await ctx.uow.rules.all(ctx.team_id)


async def add_rule(ctx: Ctx, spec: RuleIn) -> RoutingRule:
    if await ctx.uow.rules.by_name(ctx.team_id, spec.name) is not None:
        raise RuleExists(spec.name)
    rule = RoutingRule(team_id=ctx.team_id, rr_cursor=0, created_at=ctx.now)
    _apply(rule, spec)
    added = await ctx.uow.rules.add(rule)
    await setup_checklist.refresh(ctx)  # the first rule ticks a step of the first-run checklist
    return added


async def edit_rule(ctx: Ctx, spec: RuleIn) -> RoutingRule:
    """Replace the settings of the rule of `spec`'s name, keeping the rule itself: its turn, its
    reps' counts and shares (a rep taken out and put back finds theirs), its SLA thresholds."""
    rule = await ctx.uow.rules.by_name(ctx.team_id, spec.name)
    if rule is None:
        raise NotFound(f"There is no rule “{spec.name}”. `/handoff route list` shows them.")
    _apply(rule, spec)
    await ctx.uow.flush()
    return rule


async def find_rule(ctx: Ctx, name_or_id: str) -> RoutingRule:
    key = name_or_id.strip().strip('"“”').lstrip("#")
    rule = await ctx.uow.rules.by_name(ctx.team_id, key)
    if rule is None and key.isdigit():
        rule = await ctx.uow.rules.get(ctx.team_id, int(key))
    if rule is None:
        raise NotFound(f"There is no rule “{key}”. `/handoff route list` shows them.")
    return rule


async def remove_rule(ctx: Ctx, name_or_id: str) -> RoutingRule:
    rule = await find_rule(ctx, name_or_id)
    await ctx.uow.routing.forget_rule(ctx.team_id, rule.id)
    await ctx.uow.rules.delete(rule)
    return rule


@dataclass(frozen=True)
class RouteTest:
    decision: Decision
    next_rep: str | None
    why: RouteWhy


async def test_route(
    ctx: Ctx, facts: LeadFacts, *, company: str | None = None, email: str | None = None
) -> RouteTest:
    """Where a lead like this would go, who would take it and why, without moving any rotation."""
    routing = await load_routing(ctx)
    decision = route(routing.rules, facts, routing.default_channel)
    why = await routing_service.preview(ctx, decision, company=company, email=email, rng=ctx.rng)
    return RouteTest(decision=decision, next_rep=why.assignee, why=why)


def spec_of(spec: RuleIn, *, rule_id: int | None = None) -> RuleSpec:
    """A draft rule (not saved) as routing sees it."""
    return RuleSpec(
        id=rule_id,
        name=spec.name,
        priority=spec.priority,
        channel_id=spec.channel,
        regions=tuple(spec.regions or ()),
        segments=tuple(spec.segments or ()),
        sources=tuple(spec.sources or ()),
        campaigns=tuple(spec.campaigns or ()),
        email_domains=tuple(spec.email_domains or ()),
        score_min=spec.score_min,
        score_max=spec.score_max,
        reps=tuple(spec.reps),
        hot_usergroup=spec.hot_usergroup,
        hot_score=spec.hot_score,
        mode=spec.mode,
        weights=tuple(spec.weight(rep) for rep in spec.reps),
        distribute=spec.distribute,
        cap_day=spec.cap_day,
        cap_week=spec.cap_week,
        catch_up=spec.catch_up,
        hours=spec.hours,
        owner_first=spec.owner_first,
    )


MAX_SIMULATE = 5000


@dataclass(frozen=True)
class Simulation:
    leads: int
    now: Replay
    draft: Replay | None
    draft_name: str | None
    moved: int


def _past(ctx: Ctx, lead: Lead) -> PastLead:
    day, week = routing_service.periods(lead.created_at, ctx)
    facts = LeadFacts(
        region=lead.region,
        segment=lead.segment,
        source=lead.source,
        campaign=lead.campaign,
        score=lead.score,
        email_domain=lead.email.rpartition("@")[2].lower(),
    )
    return PastLead(facts=facts, company=lead.company, email=lead.email, day=day, week=week)


async def simulate(ctx: Ctx, count: int, draft: RuleIn | None) -> Simulation:
    """The last `count` leads replayed through the rules as they are, and with `draft` saved
    (replacing the rule of its name); nothing is written."""
    if not 1 <= count <= MAX_SIMULATE:
        raise InvalidInput({"count": f"replay between 1 and {MAX_SIMULATE} leads"})
    routing = await load_routing(ctx)
    past = [_past(ctx, lead) for lead in await ctx.uow.routing.recent_leads(ctx.team_id, count)]
    rows = await ctx.uow.routing.owned_accounts(ctx.team_id)
    accounts = routing_service.account_index(ctx.team_id, rows)
    now = replay(past, routing.rules, routing.default_channel, accounts=accounts)
    if draft is None:
        return Simulation(leads=len(past), now=now, draft=None, draft_name=None, moved=0)
    rules = [r for r in routing.rules if r.name != draft.name]
    if draft.enabled:
        rules = with_draft(rules, spec_of(draft))
    after = replay(past, rules, routing.default_channel, accounts=accounts)
    return Simulation(leads=len(past), now=now, draft=after, draft_name=draft.name, moved=moved(now, after))


@dataclass(frozen=True)
class FairnessWeek:
    label: str  # "week of 2026-11-30"
    reps: dict[str, dict[str, int]]


async def fairness(ctx: Ctx, weeks: int) -> list[FairnessWeek]:
    """Per rep per week (this week first): offered, claimed, passed, capped."""
    if not 1 <= weeks <= 12:
        raise InvalidInput({"weeks": "show between 1 and 12 weeks"})
    tz = ctx.settings.tz
    today = ctx.now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    out = []
    for back in range(weeks):
        start = monday - timedelta(weeks=back)
        start_utc = datetime(start.year, start.month, start.day, tzinfo=tz)
        end_utc = start_utc + timedelta(weeks=1)
        counts = await ctx.uow.reports.rep_fairness(
            ctx.team_id, start_utc.astimezone(UTC), end_utc.astimezone(UTC)
        )
        out.append(FairnessWeek(label=f"week of {start.isoformat()}", reps=counts))
    return out


async def set_away(
    ctx: Ctx, user_id: str, *, away: bool, days: str | None = None
) -> tuple[date, date] | None:
    """Away until back (`away`), away on given days (`days`: parse_time_off's syntax, dates in
    the rep's own time zone), or back (every kind of away cleared). Returns the days off set."""
    if days:
        member = await ctx.uow.members.get(ctx.team_id, user_id)
        zone = rep_zone(member.tz if member else None, ctx.settings.tz)
        try:
            first, last = parse_time_off(days, ctx.now.astimezone(zone).date())
        except ValueError as exc:
            raise InvalidInput({"days": str(exc)}) from None
        await ctx.uow.members.upsert(
            ctx.team_id, user_id, at=ctx.now, away=False, away_from=first, away_until=last
        )
        return first, last
    await ctx.uow.members.upsert(ctx.team_id, user_id, at=ctx.now, away=away, away_from=None, away_until=None)
    return None


# -- YAML ------------------------------------------------------------------------------------------


def export_document(rules: list[RoutingRule]) -> dict[str, Any]:
    return {"rules": [rule_in(r).model_dump(exclude_none=True, exclude_defaults=False) for r in rules]}


def parse_document(doc: object) -> list[RuleIn]:
    """The rules of a YAML document ({rules: [...]} or a bare list); errors name the rule."""
    items = doc.get("rules") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise InvalidInput({"rules": "the file must hold a list of rules under `rules:`"})
    specs: list[RuleIn] = []
    seen: set[str] = set()
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise InvalidInput({f"rule {number}": "must be a mapping of settings"})
        try:
            spec = validate_rule(item)
        except InvalidInput as exc:
            label = f"rule {number} ({item.get('name')})" if item.get("name") else f"rule {number}"
            raise InvalidInput({f"{label}.{k}": v for k, v in exc.errors.items()}) from None
        if spec.name in seen:
            raise InvalidInput({f"rule {number}": f"the name “{spec.name}” is used twice"})
        seen.add(spec.name)
        specs.append(spec)
    return specs


@dataclass(frozen=True)
class ImportSummary:
    added: list[str]
    updated: list[str]
    removed: list[str]


async def import_rules(ctx: Ctx, specs: list[RuleIn], *, replace: bool) -> ImportSummary:
    """Upsert by name; with replace, rules missing from the file are removed. All or nothing."""
    existing = {r.name: r for r in await ctx.uow.rules.all(ctx.team_id)}
    added, updated = [], []
    for spec in specs:
        rule = existing.get(spec.name)
        if rule is None:
            await add_rule(ctx, spec)
            added.append(spec.name)
        else:
            _apply(rule, spec)
            updated.append(spec.name)
    removed = []
    if replace:
        wanted = {s.name for s in specs}
        for name, rule in existing.items():
            if name not in wanted:
                await ctx.uow.routing.forget_rule(ctx.team_id, rule.id)
                await ctx.uow.rules.delete(rule)
                removed.append(name)
    await ctx.uow.flush()
    return ImportSummary(added=added, updated=updated, removed=removed)
