"""Planning a batch of leads, as pure logic: which are duplicates (of a stored lead, or of an earlier
lead of the same batch), where each new one goes, and which rep each takes in its rule's rotation.

The intake service does the I/O around it: it looks the batch's dedupe keys and emails up, hands
what it found to `plan_batch`, takes the places `places_wanted` asks for from each rule's round robin
in one atomic step, and `assign` turns those places into reps. Stored leads are opaque here (`L`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Generic, TypeVar

from bot.domain.lead_input import LeadIn
from bot.domain.routing import Decision, LeadFacts, RuleSpec, next_rep, route
from bot.domain.routing_why import RouteWhy

L = TypeVar("L")


class Fate(StrEnum):
    NEW = "new"  # store it and post its card
    DUPLICATE = "duplicate"  # attach to the lead it repeats
    UNROUTABLE = "unroutable"  # no rule matches and there is no default channel


@dataclass(frozen=True)
class Planned(Generic[L]):
    index: int  # position in the caller's input
    data: LeadIn
    fate: Fate
    decision: Decision | None = None  # NEW: where it goes and why
    existing: L | None = None  # DUPLICATE of a stored lead
    twin: int | None = None  # DUPLICATE of an earlier NEW lead of this batch: its position in the plan
    assignee: str | None = None  # NEW, with a rule that has reps: set by `assign`
    why: RouteWhy | None = None  # NEW: who took it and why the others did not (the routing service)

    @property
    def rule(self) -> RuleSpec | None:
        return self.decision.rule if self.decision else None


def facts_of(lead: LeadIn) -> LeadFacts:
    return LeadFacts(
        region=lead.region,
        segment=lead.segment,
        source=lead.source,
        campaign=lead.campaign,
        score=lead.score,
        email_domain=lead.email_domain,
    )


def plan_batch(
    batch: Sequence[tuple[int, LeadIn]],
    *,
    stored_by_key: Mapping[str, L],
    recent_by_email: Mapping[str, L],
    rules: Sequence[RuleSpec],
    default_channel: str | None,
    dedupe_by_email: bool,
) -> list[Planned[L]]:
    """One plan per lead, in batch order. A lead repeats a stored one with its dedupe key or (within
    the duplicate window, which `recent_by_email` already reflects) its email; failing that, an
    earlier new lead of the batch with the same key or email. Only routed leads can be repeated
    within a batch, so a twin's `twin` always points at a NEW plan."""
    plans: list[Planned[L]] = []
    seen_keys: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    for index, data in batch:
        key, email = data.dedupe_key(), data.email
        existing = stored_by_key.get(key) or recent_by_email.get(email)
        twin = (
            None
            if existing is not None
            else seen_keys.get(key, seen_emails.get(email) if dedupe_by_email else None)
        )
        if existing is not None or twin is not None:
            plans.append(Planned(index, data, Fate.DUPLICATE, existing=existing, twin=twin))
            continue
        decision = route(rules, facts_of(data), default_channel)
        if decision.channel_id is None:
            plans.append(Planned(index, data, Fate.UNROUTABLE, decision=decision))
            continue
        seen_keys.setdefault(key, len(plans))
        seen_emails.setdefault(email, len(plans))
        plans.append(Planned(index, data, Fate.NEW, decision=decision))
    return plans


def places_wanted(plans: Sequence[Planned[L]]) -> Counter[int]:
    """How many places in each rule's round robin the batch's new leads take."""
    return Counter(
        p.rule.id for p in plans if p.fate is Fate.NEW and p.rule and p.rule.reps and p.rule.id is not None
    )


def assign(plans: Sequence[Planned[L]], first: Mapping[int, int], away: frozenset[str]) -> list[Planned[L]]:
    """The plans with reps assigned: the new leads of rule R take R's places from `first[R]` on,
    in batch order, each skipping reps who are away."""
    cursors = dict(first)
    out: list[Planned[L]] = []
    for plan in plans:
        rule = plan.rule
        if plan.fate is Fate.NEW and rule is not None and rule.id in cursors:
            rep, _ = next_rep(rule.reps, cursors[rule.id], set(away))
            cursors[rule.id] += 1
            plan = replace(plan, assignee=rep)
        out.append(plan)
    return out
