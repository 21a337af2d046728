"""Routing rules as pure logic: which rule takes a lead, why, and who is next in line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RuleSpec:
    """What a rule matches on; None (or empty) matches anything."""

    id: int | None
    name: str
    priority: int
    channel_id: str
    regions: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    email_domains: tuple[str, ...] = ()
    score_min: int | None = None
    score_max: int | None = None
    reps: tuple[str, ...] = ()
    hot_usergroup: str | None = None
    hot_score: int | None = None
    mode: str = "claim"  # claim | assign
    # distribution (issue 18): see bot/domain/distribution.py
    weights: tuple[int, ...] = ()  # one per rep (empty: all 1)
    distribute: str = "turn"  # turn | least_loaded
    cap_day: int | None = None
    cap_week: int | None = None
    catch_up: bool = False
    hours: bool = False  # skip reps outside their own working hours (and on holidays)
    owner_first: bool = True  # a lead of a known account goes to its owner first

    def weight(self, rep: str) -> int:
        if not self.weights:
            return 1
        try:
            return self.weights[self.reps.index(rep)]
        except (ValueError, IndexError):
            return 1

    @property
    def assigns(self) -> bool:
        """Assign mode: the next rep gets the lead by DM instead of a card in the channel."""
        return self.mode == "assign" and bool(self.reps)


@dataclass(frozen=True)
class LeadFacts:
    region: str | None
    segment: str | None
    source: str | None
    campaign: str | None
    score: int | None
    email_domain: str


@dataclass(frozen=True)
class Checked:
    """A rule checked before the one that matched, and the first of its conditions the lead failed."""

    rule_id: int | None
    name: str
    priority: int
    failed: str


CHECKED_KEPT = 20  # rules listed in a decision's why; the count says how many more were checked


@dataclass(frozen=True)
class Decision:
    rule: RuleSpec | None
    channel_id: str | None
    reasons: tuple[str, ...] = field(default_factory=tuple)
    checked: tuple[Checked, ...] = ()  # the first CHECKED_KEPT rules that did not match
    checked_count: int = 0  # every rule that did not match, before this one

    @property
    def explanation(self) -> str:
        if self.rule is None:
            return "No routing rule matched, so it went to the default sales channel."
        why = "; ".join(self.reasons) if self.reasons else "it matches every lead"
        said = f"Rule “{self.rule.name}” (priority {self.rule.priority}) matched: {why}."
        if self.rule.assigns:
            said += " Assign mode: the next rep in the rotation gets it by DM."
        return said


def _norm(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(v.strip().lower() for v in values if v and v.strip())


def _in(label: str, value: str | None, allowed: Sequence[str]) -> tuple[bool, str | None]:
    if not allowed:
        return True, None
    if value is not None and value.lower() in _norm(allowed):
        return True, f"{label} is {value}"
    return False, None


def _domain_matches(domain: str, allowed: Sequence[str]) -> tuple[bool, str | None]:
    if not allowed:
        return True, None
    domain = domain.lower()
    for pattern in _norm(allowed):
        pattern = pattern.lstrip("@")
        if domain == pattern or domain.endswith("." + pattern):
            return True, f"email domain is {domain}"
    return False, None


def check(rule: RuleSpec, lead: LeadFacts) -> tuple[list[str], str | None]:
    """The conditions that took the lead, or the first one it failed (then the list is empty)."""
    reasons: list[str] = []
    checks = (
        ("region", _in("region", lead.region, rule.regions)),
        ("segment", _in("segment", lead.segment, rule.segments)),
        ("source", _in("source", lead.source, rule.sources)),
        ("campaign", _in("campaign", lead.campaign, rule.campaigns)),
        ("email domain", _domain_matches(lead.email_domain, rule.email_domains)),
    )
    for label, (ok, reason) in checks:
        if not ok:
            return [], label
        if reason:
            reasons.append(reason)
    if rule.score_min is not None or rule.score_max is not None:
        if lead.score is None:
            return [], "score"
        low = rule.score_min if rule.score_min is not None else 0
        high = rule.score_max if rule.score_max is not None else 100
        if not low <= lead.score <= high:
            return [], "score"
        reasons.append(f"score {lead.score} is within {low}–{high}")
    return reasons, None


def match(rule: RuleSpec, lead: LeadFacts) -> tuple[bool, list[str]]:
    """Does the rule take the lead, and which of its conditions said so."""
    reasons, failed = check(rule, lead)
    return failed is None, reasons


def route(rules: Sequence[RuleSpec], lead: LeadFacts, default_channel: str | None) -> Decision:
    """First matching rule in priority order wins; none → the default sales channel. The rules
    checked before it are kept (the first CHECKED_KEPT, with the condition each failed)."""
    checked: list[Checked] = []
    count = 0
    for rule in sorted(rules, key=lambda r: (r.priority, r.id or 0)):
        reasons, failed = check(rule, lead)
        if failed is None:
            return Decision(
                rule=rule,
                channel_id=rule.channel_id,
                reasons=tuple(reasons),
                checked=tuple(checked),
                checked_count=count,
            )
        count += 1
        if len(checked) < CHECKED_KEPT:
            checked.append(Checked(rule.id, rule.name, rule.priority, failed))
    return Decision(rule=None, channel_id=default_channel, checked=tuple(checked), checked_count=count)


def next_rep(reps: Sequence[str], cursor: int, away: set[str]) -> tuple[str | None, int]:
    """Round robin from `cursor`, skipping reps who are away; returns (rep, positions used)."""
    if not reps:
        return None, 0
    for step in range(len(reps)):
        rep = reps[(cursor + step) % len(reps)]
        if rep not in away:
            return rep, step + 1
    return None, 1


def is_hot(rule: RuleSpec | None, score: int | None) -> bool:
    return bool(
        rule
        and rule.hot_usergroup
        and rule.hot_score is not None
        and score is not None
        and score >= rule.hot_score
    )


def is_hot_lead(rule: RuleSpec | None, score: int | None, default_hot_score: int) -> bool:
    """Hot for the outbox's lanes: a score at or above the rule's hot_score, else the workspace
    default (HANDOFF_HOT_SCORE), whether or not the rule has a user group to mention."""
    if score is None:
        return False
    threshold = rule.hot_score if rule is not None and rule.hot_score is not None else default_hot_score
    return score >= threshold
