"""Who of a rule's reps takes the next lead: weights, caps, strict turns or least loaded, and why
each of the others did not. Pure; the routing service loads a rule's `Pool` under the rule's row
lock, calls `pick` once per lead and writes the pool back.

* **turn**: strict order. Weights repeat a rep within a round (`@a*2,@b,@c*3` → a b c a c c);
  the cursor moves past the rep who took the lead, so a rep skipped (away, capped) loses that turn.
* **least_loaded**: the rep with the fewest leads per weight takes it, ties broken at random
  (never "first listed"). Each rep has a pass value that grows by 1/weight per lead; the rule has
  a virtual time that grows by 1/(sum of the weights of the reps who could take it) per lead. A
  rep below it (back from absence, or new to the rule) joins at the virtual time instead of
  taking every lead until they catch up, unless the rule says `catch_up`. Removing and re-adding a
  rep keeps their counts: they are stored per rule and person, not by position.
* **caps**: `cap_day` / `cap_week` leads per rep from this rule; a capped rep is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from random import Random

from bot.domain.routing import RuleSpec

EPSILON = 1e-9


class Outcome(StrEnum):
    CHOSEN = "chosen"
    SKIPPED = "skipped"  # could not take it now: away, capped, outside hours, out of office
    WAITING = "waiting"  # could have, but it was not their turn / they had more leads per weight


@dataclass(frozen=True)
class Load:
    """A rep's counts in one rule, for the current day and week (older periods count 0)."""

    pass_value: float = 0.0
    day_count: int = 0
    week_count: int = 0
    total: int = 0
    known: bool = False  # stored before (a new rep joins least_loaded at the virtual time)


@dataclass(frozen=True)
class Candidate:
    user_id: str
    outcome: Outcome
    why: str
    today: int = 0
    week: int = 0
    weight: int = 1

    def to_json(self) -> dict[str, object]:
        return {
            "user": self.user_id,
            "outcome": self.outcome.value,
            "why": self.why,
            "today": self.today,
            "week": self.week,
            "weight": self.weight,
        }


@dataclass
class Pool:
    """One rule's distribution state while a batch is routed (mutated by `pick`)."""

    rule: RuleSpec
    cursor: int = 0
    virtual_time: float = 0.0
    loads: dict[str, Load] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)

    def load(self, rep: str) -> Load:
        return self.loads.get(rep) or Load()


@dataclass(frozen=True)
class Pick:
    rep: str | None
    candidates: tuple[Candidate, ...]
    capped: tuple[str, ...] = ()  # reps skipped because of a cap (the fairness report counts them)


def turn_order(rule: RuleSpec) -> tuple[str, ...]:
    """Strict order with weights: round k lists, in rule order, each rep whose weight is above k."""
    if not rule.reps:
        return ()
    weights = [max(1, rule.weight(rep)) for rep in rule.reps]
    order: list[str] = []
    for k in range(max(weights)):
        order.extend(rep for rep, w in zip(rule.reps, weights, strict=True) if w > k)
    return tuple(order)


def cap_reached(rule: RuleSpec, load: Load) -> str | None:
    if rule.cap_day is not None and load.day_count >= rule.cap_day:
        return f"cap reached ({rule.cap_day}/day)"
    if rule.cap_week is not None and load.week_count >= rule.cap_week:
        return f"cap reached ({rule.cap_week}/week)"
    return None


def _skip_reason(pool: Pool, rep: str, unavailable: Mapping[str, str]) -> str | None:
    return unavailable.get(rep) or cap_reached(pool.rule, pool.load(rep))


def _take(pool: Pool, rep: str, *, pass_value: float | None = None) -> None:
    load = pool.load(rep)
    pool.loads[rep] = replace(
        load,
        pass_value=load.pass_value if pass_value is None else pass_value,
        day_count=load.day_count + 1,
        week_count=load.week_count + 1,
        total=load.total + 1,
        known=True,
    )
    pool.changed.add(rep)


def _candidate(pool: Pool, rep: str, outcome: Outcome, why: str) -> Candidate:
    load = pool.load(rep)
    return Candidate(
        rep, outcome, why, today=load.day_count, week=load.week_count, weight=pool.rule.weight(rep)
    )


def pick(pool: Pool, unavailable: Mapping[str, str], rng: Random) -> Pick:
    """The rep who takes the next lead (None when every rep is unavailable or capped), with every
    rep's outcome and why. `unavailable` maps a rep to why they cannot take a lead now."""
    if pool.rule.distribute == "least_loaded":
        return _least_loaded(pool, unavailable, rng)
    return _turn(pool, unavailable)


def _turn(pool: Pool, unavailable: Mapping[str, str]) -> Pick:
    order = turn_order(pool.rule)
    if not order:
        return Pick(None, ())
    skipped: dict[str, str] = {}
    chosen: str | None = None
    for step in range(len(order)):
        rep = order[(pool.cursor + step) % len(order)]
        if rep in skipped:
            continue
        why = _skip_reason(pool, rep, unavailable)
        if why is None:
            chosen = rep
            pool.cursor += step + 1
            break
        skipped[rep] = why
    if chosen is None:
        pool.cursor += 1
    candidates = []
    for rep in pool.rule.reps:
        if rep == chosen:
            continue
        if rep in skipped:
            candidates.append(_candidate(pool, rep, Outcome.SKIPPED, skipped[rep]))
        else:
            why = _skip_reason(pool, rep, unavailable)
            if why is not None:
                candidates.append(_candidate(pool, rep, Outcome.SKIPPED, why))
            else:
                candidates.append(_candidate(pool, rep, Outcome.WAITING, "a later turn"))
    capped = tuple(rep for rep, why in skipped.items() if why.startswith("cap"))
    if chosen is not None:
        _take(pool, chosen)
        first = _candidate(pool, chosen, Outcome.CHOSEN, "next in turn")
        return Pick(chosen, (first, *candidates), capped)
    return Pick(None, tuple(candidates), capped)


def _least_loaded(pool: Pool, unavailable: Mapping[str, str], rng: Random) -> Pick:
    rule = pool.rule
    vt = pool.virtual_time
    effective: dict[str, float] = {}
    skipped: dict[str, str] = {}
    for rep in rule.reps:
        why = _skip_reason(pool, rep, unavailable)
        if why is not None:
            skipped[rep] = why
            continue
        load = pool.load(rep)
        if not load.known:
            effective[rep] = vt  # new to the rule: joins at the current share, no flood
        elif rule.catch_up:
            effective[rep] = load.pass_value
        else:
            effective[rep] = max(load.pass_value, vt)
    capped = tuple(rep for rep, why in skipped.items() if why.startswith("cap"))
    if not effective:
        return Pick(
            None, tuple(_candidate(pool, rep, Outcome.SKIPPED, skipped[rep]) for rep in rule.reps), capped
        )
    low = min(effective.values())
    tied = [rep for rep in rule.reps if rep in effective and effective[rep] - low < EPSILON]
    chosen = tied[0] if len(tied) == 1 else rng.choice(tied)
    total_weight = sum(max(1, rule.weight(rep)) for rep in effective)
    _take(pool, chosen, pass_value=effective[chosen] + 1 / max(1, rule.weight(chosen)))
    pool.virtual_time = vt + 1 / total_weight
    why = "fewest leads for their weight"
    if len(tied) > 1:
        why += f" (a tie with {len(tied) - 1} other{'s' if len(tied) > 2 else ''}, drawn at random)"
    candidates = [_candidate(pool, chosen, Outcome.CHOSEN, why)]
    for rep in rule.reps:
        if rep == chosen:
            continue
        if rep in skipped:
            candidates.append(_candidate(pool, rep, Outcome.SKIPPED, skipped[rep]))
        else:
            candidates.append(_candidate(pool, rep, Outcome.WAITING, "more leads for their weight"))
    return Pick(chosen, tuple(candidates), capped)


def take_outside(pool: Pool, rep: str) -> None:
    """A rep of this rule took a lead another way (the account's owner): it counts toward their
    caps and load, as if it were their turn in least_loaded."""
    if rep not in pool.rule.reps:
        return
    load = pool.load(rep)
    base = load.pass_value if load.known else pool.virtual_time
    _take(pool, rep, pass_value=max(base, pool.virtual_time) + 1 / max(1, pool.rule.weight(rep)))


def preview(pool: Pool, unavailable: Mapping[str, str], rng: Random) -> Pick:
    """What `pick` would say, without moving the pool."""
    copy = Pool(
        rule=pool.rule,
        cursor=pool.cursor,
        virtual_time=pool.virtual_time,
        loads=dict(pool.loads),
        changed=set(pool.changed),
    )
    return pick(copy, unavailable, rng)
