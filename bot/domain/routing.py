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

    def __post_init__(self) -> None:
        # the match lists, normalised once per rule (not once per lead and rule)
        object.__setattr__(
            self,
            "_sets",
            (
                frozenset(_norm(self.regions)),
                frozenset(_norm(self.segments)),
                frozenset(_norm(self.sources)),
                frozenset(_norm(self.campaigns)),
                tuple(p.lstrip("@") for p in _norm(self.email_domains)),
            ),
        )

        object.__setattr__(self, "_weight_of", dict(zip(self.reps, self.weights, strict=False)))

    def weight(self, rep: str) -> int:
        return int(self._weight_of.get(rep, 1)) if self.weights else 1  # type: ignore[attr-defined]

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


def _lowered(lead: LeadFacts) -> tuple[str | None, ...]:
    values = (lead.region, lead.segment, lead.source, lead.campaign)
    return (*(v.lower() if v is not None else None for v in values), lead.email_domain.lower())


def check(rule: RuleSpec, lead: LeadFacts) -> tuple[list[str], str | None]:
    """The conditions that took the lead, or the first one it failed (then the list is empty)."""
    return _check(rule, lead, _lowered(lead))


_LABELS = ("region", "segment", "source", "campaign")


def _check(rule: RuleSpec, lead: LeadFacts, lowered: tuple[str | None, ...]) -> tuple[list[str], str | None]:
    """Conditions in order, the first failure stops (routing's hot loop: lists pre-normalised per
    rule, the lead's values lowered once per lead)."""
    sets = rule._sets  # type: ignore[attr-defined]
    reasons: list[str] = []
    for i in range(4):
        allowed = sets[i]
        if not allowed:
            continue
        if lowered[i] is None or lowered[i] not in allowed:
            return [], _LABELS[i]
        value = (lead.region, lead.segment, lead.source, lead.campaign)[i]
        reasons.append(f"{_LABELS[i]} is {value}")
    domains = sets[4]
    if domains:
        domain = lowered[4] or ""
        if not any(domain == p or domain.endswith("." + p) for p in domains):
            return [], "email domain"
        reasons.append(f"email domain is {domain}")
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
    lowered = _lowered(lead)
    for rule in sorted(rules, key=lambda r: (r.priority, r.id or 0)):
        reasons, failed = _check(rule, lead, lowered)
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
