"""`/handoff route simulate`: replay past leads through a set of rules, as pure logic, and compare
two replays (the rules now, and with a draft rule). The replay starts every rule's distribution
from zero, counts caps per the lead's own day and week, and assumes everyone was in (who was away
back then is not known); the account's owner first, as live routing does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from random import Random

from bot.domain.accounts import AccountIndex
from bot.domain.distribution import Pool
from bot.domain.routing import LeadFacts, RuleSpec, route
from bot.domain.routing_why import choose


@dataclass(frozen=True)
class PastLead:
    facts: LeadFacts
    company: str | None
    email: str | None
    day: str  # the lead's own day and ISO week (caps count per period)
    week: str


@dataclass
class Replay:
    channels: Counter[str | None] = field(default_factory=Counter)
    reps: Counter[str] = field(default_factory=Counter)
    places: list[tuple[str | None, str | None]] = field(default_factory=list)  # per lead: (channel, rep)


def replay(
    leads: Sequence[PastLead],
    rules: Sequence[RuleSpec],
    default_channel: str | None,
    *,
    accounts: AccountIndex | None,
    seed: int = 0,
) -> Replay:
    rng = Random(seed)
    pools = {rule.name: Pool(rule=rule) for rule in rules if rule.reps}
    out = Replay()
    day = week = None
    for lead in leads:
        if lead.day != day or lead.week != week:
            for pool in pools.values():
                pool.loads = {
                    rep: replace(
                        load,
                        day_count=0 if lead.day != day else load.day_count,
                        week_count=0 if lead.week != week else load.week_count,
                    )
                    for rep, load in pool.loads.items()
                }
            day, week = lead.day, lead.week
        decision = route(rules, lead.facts, default_channel)
        rule = decision.rule
        match = None
        if accounts is not None and (rule is None or rule.owner_first):
            match = accounts.find(company=lead.company, email=lead.email)
        why = choose(
            decision,
            pool=pools.get(rule.name) if rule is not None else None,
            account=match,
            out=lambda rep: None,
            rng=rng,
        )
        out.channels[decision.channel_id] += 1
        if why.assignee:
            out.reps[why.assignee] += 1
        out.places.append((decision.channel_id, why.assignee))
    return out


def moved(before: Replay, after: Replay) -> int:
    """How many leads would land somewhere else (another channel or another rep)."""
    return sum(1 for a, b in zip(before.places, after.places, strict=True) if a != b)


def with_draft(rules: Sequence[RuleSpec], draft: RuleSpec) -> list[RuleSpec]:
    """The rules as they would be with `draft` saved: it replaces the rule of the same name."""
    return [r for r in rules if r.name != draft.name] + [draft]
