"""Managing routing rules (Slack admin commands, YAML import/export) and who is away."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.domain.errors import HandoffError, InvalidInput, NotFound
from bot.domain.route_syntax import RuleIn, validate_rule
from bot.domain.routing import Decision, LeadFacts, route
from bot.domain.routing_why import RouteWhy
from bot.services import routing as routing_service
from bot.services import setup_checklist
from bot.services.context import Ctx
from bot.services.intake import load_routing
from bot.storage.models import RoutingRule


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


async def set_away(ctx: Ctx, user_id: str, *, away: bool) -> None:
    await ctx.uow.members.upsert(ctx.team_id, user_id, at=ctx.now, away=away)


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
                await ctx.uow.rules.delete(rule)
                removed.append(name)
    await ctx.uow.flush()
    return ImportSummary(added=added, updated=updated, removed=removed)
