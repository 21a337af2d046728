"""Planning a batch of leads, as pure logic: which are duplicates (of a stored lead, or of an earlier
lead of the same batch) and where each new one goes.

The intake service does the I/O around it: it looks the batch's dedupe keys and emails up and hands
what it found to `plan_batch`; the routing service (bot/services/routing.py) then gives each new
lead its rep and its why under each rule's lock. Stored leads are opaque here (`L`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from bot.domain.lead_input import LeadIn
from bot.domain.routing import Decision, LeadFacts, RuleSpec, route
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
    assignee: str | None = None  # NEW, with a rule that has reps: set by the routing service
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
