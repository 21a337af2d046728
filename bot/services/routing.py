"""Routing's use cases around the pure logic: who of a rule's reps takes each new lead (weights,
caps, turns, availability, the account's owner first) under the rule's row lock, the decision and
its why stored in the lead's transaction, and the same decision previewed without moving anything.

Intake calls `assign_batch` once per batch and `record` once its leads exist; `/handoff route test`
calls `preview`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from random import Random
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.domain.accounts import AccountIndex, AccountMatch, AccountRef
from bot.domain.availability import DEFAULT_OOO_EMOJI, DEFAULT_OOO_TEXT, OooPolicy, RepInfo, unavailable
from bot.domain.distribution import Load, Pool, pick
from bot.domain.intake_plan import Fate, Planned
from bot.domain.routing import Decision, RuleSpec
from bot.domain.routing_why import RouteWhy, choose
from bot.domain.sla import BusinessCalendar
from bot.services.business_calendar import load_calendar
from bot.services.context import Ctx
from bot.storage.models import Lead, Member, RepLoad, RoutingRule


def rule_spec(rule: RoutingRule, hot_score: int | None = None) -> RuleSpec:
    """A stored rule as routing sees it (`hot_score`: the workspace's, when the rule has none)."""
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
        hot_score=rule.hot_score if rule.hot_score is not None else hot_score,
        mode=rule.mode,
        weights=tuple(int((rule.weights or {}).get(rep, 1)) for rep in rule.reps or ()),
        distribute=rule.distribute or "turn",
        cap_day=rule.cap_day,
        cap_week=rule.cap_week,
        catch_up=bool(rule.catch_up),
        hours=bool(rule.hours),
        owner_first=rule.owner_first is not False,
    )


def periods(now: datetime, ctx: Ctx) -> tuple[str, str]:
    """The day and ISO week a lead counts toward (the workspace's time zone)."""
    local = now.astimezone(ctx.settings.tz)
    year, week, _ = local.isocalendar()
    return local.date().isoformat(), f"{year}-W{week:02d}"


def _load(row: RepLoad, day: str, week: str) -> Load:
    return Load(
        pass_value=row.pass_value,
        day_count=row.day_count if row.day == day else 0,
        week_count=row.week_count if row.week == week else 0,
        total=row.total,
        known=True,
    )


def rep_info(member: Member) -> RepInfo:
    return RepInfo(
        user_id=member.user_id,
        away=bool(member.away),
        tz=member.tz,
        status_text=member.status_text,
        status_emoji=member.status_emoji,
        status_expiration=member.status_expiration,
        away_from=member.away_from,
        away_until=member.away_until,
    )


def ooo_policy(ctx: Ctx) -> OooPolicy:
    emoji = getattr(ctx.settings, "ooo_emoji", None)
    text = getattr(ctx.settings, "ooo_text", None)
    return OooPolicy(
        emoji=tuple(emoji) if emoji is not None else DEFAULT_OOO_EMOJI,
        text=tuple(text) if text is not None else DEFAULT_OOO_TEXT,
    )


@dataclass
class Situation:
    """What the decisions of one batch read, loaded once."""

    pools: dict[int, Pool]
    infos: dict[str, RepInfo]
    accounts: AccountIndex | None
    calendar: BusinessCalendar | None
    policy: OooPolicy
    now: datetime
    zone: ZoneInfo | None = None  # the workspace's, for reps whose own is not known
    _out: dict[tuple[bool, str], str | None] = field(default_factory=dict)

    def out(self, rule: RuleSpec | None) -> Callable[[str], str | None]:
        """Why a rep cannot take a lead now (memoised: the batch shares one `now`)."""
        hours = rule is not None and rule.hours
        calendar = self.calendar if hours else None
        memo = self._out

        def why(rep: str) -> str | None:
            key = (hours, rep)
            if key not in memo:
                memo[key] = unavailable(
                    self.infos.get(rep), self.now, policy=self.policy, calendar=calendar, zone=self.zone
                )
            return memo[key]

        return why

    def account_of(self, company: str | None, email: str | None) -> AccountMatch | None:
        if self.accounts is None:
            return None
        return self.accounts.find(company=company, email=email)


# the account index per workspace, rebuilt only when its owned accounts change (a lead batch or a
# single lead reads the rows, ~1 query, but does not re-normalise a thousand company names)
_INDEXES: dict[str, tuple[int, AccountIndex]] = {}
_INDEXES_KEPT = 64


def account_index(
    team_id: str, rows: Sequence[tuple[int, str | None, str | None, str]]
) -> AccountIndex | None:
    if not rows:
        return None
    key = hash(tuple(rows))
    cached = _INDEXES.get(team_id)
    if cached is not None and cached[0] == key:
        return cached[1]
    index = AccountIndex(AccountRef(id=i, company=c, domain=d, owner_id=o) for i, c, d, o in rows)
    if len(_INDEXES) >= _INDEXES_KEPT:
        _INDEXES.pop(next(iter(_INDEXES)))
    _INDEXES[team_id] = (key, index)
    return index


async def _situation(ctx: Ctx, rules: Iterable[RuleSpec], *, lock: bool, with_accounts: bool) -> Situation:
    day, week = periods(ctx.now, ctx)
    pools: dict[int, Pool] = {}
    for rule in sorted(
        {r.id: r for r in rules if r.id is not None and r.reps}.values(), key=lambda r: r.id or 0
    ):
        assert rule.id is not None
        state = await ctx.uow.routing.lock_rule(ctx.team_id, rule.id) if lock else None
        if state is None and lock:
            continue  # removed meanwhile
        if state is None:
            stored = await ctx.uow.rules.get(ctx.team_id, rule.id)
            state = (stored.rr_cursor, stored.virtual_time) if stored else (0, 0.0)
        loads = {
            row.user_id: _load(row, day, week) for row in await ctx.uow.routing.loads(ctx.team_id, rule.id)
        }
        pools[rule.id] = Pool(rule=rule, cursor=state[0], virtual_time=state[1], loads=loads)
    rows = await ctx.uow.routing.owned_accounts(ctx.team_id) if with_accounts else []
    accounts = account_index(ctx.team_id, rows)
    people = {rep for pool in pools.values() for rep in pool.rule.reps} | {owner for _, _, _, owner in rows}
    infos = {m.user_id: rep_info(m) for m in await ctx.uow.routing.members(ctx.team_id, sorted(people))}
    calendar = None
    if any(pool.rule.hours for pool in pools.values()) or (rows and any(r.hours for r in rules)):
        calendar = await load_calendar(ctx.uow, ctx.settings, ctx.team_id)
    return Situation(pools, infos, accounts, calendar, ooo_policy(ctx), ctx.now, ctx.settings.tz)


async def _save(ctx: Ctx, pools: Iterable[Pool]) -> None:
    day, week = periods(ctx.now, ctx)
    for pool in pools:
        if pool.rule.id is None:
            continue
        await ctx.uow.routing.save_rule(
            ctx.team_id, pool.rule.id, cursor=pool.cursor, virtual_time=pool.virtual_time
        )
        values = {
            rep: {
                "pass_value": load.pass_value,
                "day": day,
                "day_count": load.day_count,
                "week": week,
                "week_count": load.week_count,
                "total": load.total,
            }
            for rep, load in ((rep, pool.load(rep)) for rep in sorted(pool.changed))
        }
        await ctx.uow.routing.save_loads(ctx.team_id, pool.rule.id, values, at=ctx.now)


L = TypeVar("L")  # a stored lead, opaque here (as in bot.domain.intake_plan)


async def assign_batch(ctx: Ctx, plans: list[Planned[L]], rng: Random) -> list[Planned[L]]:
    """Each new lead's rep and its why, in batch order: the rules' states are locked (in id order)
    and read once, decided in memory, written back once."""
    new = [p for p in plans if p.fate is Fate.NEW and p.decision is not None]
    if not new:
        return plans
    rules = [p.rule for p in new if p.rule is not None]
    situation = await _situation(
        ctx, rules, lock=True, with_accounts=any(r.owner_first for r in rules) or len(rules) < len(new)
    )
    out: list[Planned[L]] = []
    for plan in plans:
        if plan.fate is Fate.NEW and plan.decision is not None:
            why = _decide(situation, plan.decision, plan.data.company, plan.data.email, rng)
            plan = replace(plan, assignee=why.assignee, why=why)
        out.append(plan)
    await _save(ctx, situation.pools.values())
    return out


def _decide(
    situation: Situation,
    decision: Decision,
    company: str | None,
    email: str | None,
    rng: Random,
    *,
    dry_run: bool = False,
) -> RouteWhy:
    rule = decision.rule
    pool = situation.pools.get(rule.id) if rule is not None and rule.id is not None else None
    owner_first = rule is None or rule.owner_first
    account = situation.account_of(company, email) if owner_first else None
    return choose(decision, pool=pool, account=account, out=situation.out(rule), rng=rng, dry_run=dry_run)


async def record(ctx: Ctx, routed: Sequence[tuple[Lead, RouteWhy]]) -> None:
    """Store each new lead's decision (one multi-row INSERT, in the lead's transaction)."""
    await ctx.uow.routing.add_decisions(
        [
            {
                "team_id": ctx.team_id,
                "lead_id": lead.id,
                "rule_id": why.decision.rule.id if why.decision.rule else None,
                "channel_id": why.decision.channel_id,
                "assignee_id": why.assignee,
                "method": why.method,
                "detail": why.to_json(),
                "capped": list(why.capped) or None,
                "created_at": ctx.now,
            }
            for lead, why in routed
        ]
    )


async def preview(
    ctx: Ctx, decision: Decision, *, company: str | None, email: str | None, rng: Random
) -> RouteWhy:
    """The decision a lead like this would get now, without taking a place in any rotation."""
    rules = [decision.rule] if decision.rule is not None else []
    situation = await _situation(ctx, rules, lock=False, with_accounts=True)
    return _decide(situation, decision, company, email, rng, dry_run=True)


async def hand_on_rep(ctx: Ctx, rule: RoutingRule, *, skip: Mapping[str, str]) -> str | None:
    """The rule's next rep for a lead handed on (assign mode's Pass or no answer, an SLA
    reassignment): the same weights, caps, turns and availability as for a new lead, with the reps
    in `skip` passed over (rep → why, e.g. "already offered"); taken under the rule's lock."""
    spec = rule_spec(rule)
    situation = await _situation(ctx, [spec], lock=True, with_accounts=False)
    pool = situation.pools.get(rule.id)
    if pool is None:
        return None
    out = situation.out(spec)
    unavailable = {rep: why for rep in spec.reps if (why := skip.get(rep) or out(rep))}
    picked = pick(pool, unavailable, ctx.rng)
    await _save(ctx, [pool])
    return picked.rep


async def available_reps(ctx: Ctx, rule: RoutingRule) -> list[str]:
    """The rule's reps who could take a lead now (not away, not out of office, not on time off,
    within their hours when the rule asks): whom an SLA reminder mentions."""
    spec = rule_spec(rule)
    infos = {m.user_id: rep_info(m) for m in await ctx.uow.routing.members(ctx.team_id, list(spec.reps))}
    calendar = await load_calendar(ctx.uow, ctx.settings, ctx.team_id) if spec.hours else None
    situation = Situation({}, infos, None, calendar, ooo_policy(ctx), ctx.now, ctx.settings.tz)
    out = situation.out(spec)
    return [rep for rep in spec.reps if out(rep) is None]


async def stored_why(ctx: Ctx, lead_id: int) -> dict[str, Any] | None:
    """The stored decision's detail (None for leads routed before decisions were stored)."""
    row = await ctx.uow.routing.decision(ctx.team_id, lead_id)
    return dict(row.detail) if row is not None else None
