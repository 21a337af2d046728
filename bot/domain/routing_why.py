"""A routing decision with its why, as pure logic: the rule (and the rules checked before it), the
account the lead belongs to and its owner, every candidate rep and why each was skipped, and where
the lead went when nobody could take it. `to_json` is what the routing_decision row stores and what
"Why here?", `/handoff route test`, the lead API and exports show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Any

from bot.domain.accounts import AccountMatch
from bot.domain.distribution import Candidate, Outcome, Pool, pick, preview, take_outside
from bot.domain.routing import Decision

WAITING_KEPT = 10


class Method:
    RULE = "rule"  # a rule matched (its reps, or its channel)
    DEFAULT = "default"  # no rule matched: the default sales channel
    ACCOUNT = "account"  # the account's owner took it


@dataclass(frozen=True)
class RouteWhy:
    decision: Decision
    assignee: str | None = None
    method: str = Method.RULE
    candidates: tuple[Candidate, ...] = ()
    account: AccountMatch | None = None
    owner_skipped: str | None = None  # why the account's owner could not take it
    fallback: str | None = None  # everyone out: where the lead went instead
    capped: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        decision, rule = self.decision, self.decision.rule
        # every rep who took it or was skipped (the why); of those whose turn it simply was not,
        # the first WAITING_KEPT (a rule of 100 reps would otherwise store 100 lines per lead)
        waiting = [c for c in self.candidates if c.outcome is Outcome.WAITING]
        kept = {id(c) for c in waiting[:WAITING_KEPT]}
        listed = [c for c in self.candidates if c.outcome is not Outcome.WAITING or id(c) in kept]
        return {
            "method": self.method,
            "rule": None if rule is None else {"id": rule.id, "name": rule.name, "priority": rule.priority},
            "matched_on": list(decision.reasons),
            "checked": [
                {"rule": c.name, "id": c.rule_id, "priority": c.priority, "failed": c.failed}
                for c in decision.checked
            ],
            "checked_count": decision.checked_count,
            "channel": decision.channel_id,
            "mode": rule.mode if rule is not None else None,
            "distribute": rule.distribute if rule is not None and rule.reps else None,
            "caps": None
            if rule is None or (rule.cap_day is None and rule.cap_week is None)
            else {"day": rule.cap_day, "week": rule.cap_week},
            "account": None
            if self.account is None
            else {
                "id": self.account.account.id,
                "company": self.account.account.company,
                "owner": self.account.account.owner_id,
                "matched_by": self.account.matched_by,
                "owner_skipped": self.owner_skipped,
            },
            "assignee": self.assignee,
            "candidates": [c.to_json() for c in listed],
            "waiting_more": len(waiting) - len(waiting[:WAITING_KEPT]),
            "fallback": self.fallback,
        }


def choose(
    decision: Decision,
    *,
    pool: Pool | None,
    account: AccountMatch | None,
    out: Callable[[str], str | None],
    rng: Random,
    dry_run: bool = False,
) -> RouteWhy:
    """Who takes a routed lead: the matched account's owner when they can (and the rule puts
    owners first), else the rule's distribution; `out(rep)` says why a rep cannot take a lead now.
    `dry_run` leaves the pool as it was (`/handoff route test`)."""
    rule = decision.rule
    method = Method.RULE if rule is not None else Method.DEFAULT
    owner = account.account.owner_id if account is not None else None
    owner_first = rule is None or rule.owner_first
    owner_skipped = None
    if account is not None and owner and owner_first:
        owner_skipped = out(owner)
        if owner_skipped is None:
            if pool is not None and not dry_run:
                take_outside(pool, owner)
            others = (
                tuple(
                    Candidate(
                        rep, Outcome.WAITING, "the account's owner comes first", weight=rule.weight(rep)
                    )
                    for rep in rule.reps
                    if rep != owner
                )
                if rule is not None
                else ()
            )
            chosen = Candidate(owner, Outcome.CHOSEN, "owns the account")
            return RouteWhy(decision, owner, Method.ACCOUNT, (chosen, *others), account=account)
    elif not owner_first:
        account = None  # the rule routes by its reps only
    if pool is None or rule is None or not rule.reps:
        return RouteWhy(decision, None, method, account=account, owner_skipped=owner_skipped)
    reps = rule.reps
    unavailable = {rep: why for rep in reps if (why := out(rep))}
    picked = preview(pool, unavailable, rng) if dry_run else pick(pool, unavailable, rng)
    fallback = None
    if picked.rep is None:
        fallback = "everyone was unavailable: the card went to the channel for anyone to claim"
    return RouteWhy(
        decision,
        picked.rep,
        method,
        picked.candidates,
        account=account,
        owner_skipped=owner_skipped,
        fallback=fallback,
        capped=picked.capped,
    )
