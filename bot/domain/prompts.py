"""Partnership prompts, pure: which bank question comes next, which of the week's facts is worth
talking about (ranked, stated in one sentence, with a question to both teams), and when a
schedule like "mon 10:00" is due."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from bot.domain.reasons import reason_label
from bot.domain.targets import Metric, Pace, format_value, pace, shortfall

# --------------------------------------------------------------------------- the question bank


@dataclass(frozen=True)
class BankQuestion:
    id: int
    text: str
    last_asked_at: datetime | None = None
    times_asked: int = 0


def choose_question(questions: Sequence[BankQuestion], *, last_id: int | None = None) -> BankQuestion | None:
    """The least recently asked question (never-asked first, then the bank's order), and never the
    one asked last time unless it is the only one left."""
    if not questions:
        return None
    pool = [q for q in questions if q.id != last_id] or list(questions)
    epoch = datetime.min.replace(tzinfo=UTC)
    return min(pool, key=lambda q: (q.last_asked_at is not None, q.last_asked_at or epoch, q.id))


# --------------------------------------------------------------------------- the week's facts


@dataclass(frozen=True)
class GroupStat:
    """Verdicts this week for one source or campaign: accepted vs rejected, and why rejected."""

    kind: str  # "source" | "campaign"
    name: str
    accepted: int
    rejected: int
    reasons: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.accepted + self.rejected

    @property
    def acceptance(self) -> float:
        return self.accepted / self.total if self.total else 1.0


@dataclass(frozen=True)
class TargetPace:
    """A whole-team target this period, in the targets feature's terms (its catalogue metric, and
    its definition of pace): the prompt only decides whether being behind is worth a talk."""

    metric: Metric
    period_label: str  # "March 2026", "Q1 2026"
    target: float
    actual: float | None  # None: a manual metric nobody has reported yet
    elapsed: float  # 0..1 of the period gone

    @property
    def pace(self) -> Pace:
        return pace(self.metric, self.actual, self.target, self.elapsed)

    @property
    def shortfall(self) -> float:
        return shortfall(self.metric, self.actual, self.target, self.elapsed)


@dataclass(frozen=True)
class WeekAggregates:
    groups: Sequence[GroupStat] = ()
    sla_breaches: int = 0
    sla_breaches_previous: int = 0
    rejection_reasons: Mapping[str, int] = field(default_factory=dict)  # the whole team's, this week
    targets: Sequence[TargetPace] = ()
    insight_tags: Mapping[str, int] = field(default_factory=dict)  # field insights per #tag, this week


@dataclass(frozen=True)
class Thresholds:
    """When a number is worth a conversation. All configurable (settings / workspace overrides)."""

    min_acceptance: float = 0.5  # a source or campaign accepted less often than this...
    min_sample: int = 5  # ...with at least this many verdicts (a 1-of-2 week says nothing)
    reason_share: float = 0.5  # one reason behind at least this share of rejections...
    reason_min: int = 5  # ...of at least this many rejections
    sla_rise: float = 0.5  # breaches up by at least this fraction week over week...
    sla_min: int = 3  # ...and at least this many this week
    # a target behind pace (bot/domain/targets.py decides that) is worth a talk only once this
    # much of its period has gone: three days into a month, every target looks behind
    pace_min_elapsed: float = 0.25
    insight_min: int = 3  # a #tag in at least this many field insights this week is worth a prompt

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> Thresholds:
        """Workspace overrides: unknown keys and unusable values are ignored, not fatal."""
        base = cls()
        if not values:
            return base
        changes: dict[str, Any] = {}
        for name, current in base.__dict__.items():
            if name in values:
                try:
                    changes[name] = type(current)(values[name])
                except (TypeError, ValueError):
                    continue
        return cls(**{**base.__dict__, **changes})


@dataclass(frozen=True)
class Fact:
    """Something notable this week: one sentence of fact and one question to both teams."""

    kind: str  # low_acceptance | reason_dominates | sla_rising | target_behind
    key: str  # stable identity, e.g. "source:webinar", to avoid asking the same thing twice
    score: float  # higher is more worth discussing
    sentence: str  # plain text; the block builder escapes it
    question: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "score": round(self.score, 4),
            "sentence": self.sentence,
            "question": self.question,
            "data": self.data,
        }


def _group_title(group: GroupStat) -> str:
    if group.kind == "campaign":
        return f"Campaign '{group.name}'"
    name = group.name.strip()
    return f"{name[:1].upper()}{name[1:]} leads"


def _top(counts: Mapping[str, int]) -> tuple[str, int] | None:
    """The most frequent code; ties go to the alphabetically first, so dict order never matters."""
    if not counts:
        return None
    best = max(counts.values())
    return min(c for c, n in counts.items() if n == best), best


def _weight(n: int) -> float:
    # more evidence, more weight; grows slowly so a big source does not drown everything else
    return 1.0 + math.log10(max(1, n))


def _low_acceptance(group: GroupStat, t: Thresholds, labels: Mapping[str, str] | None) -> Fact | None:
    if group.total < t.min_sample or group.acceptance >= t.min_acceptance:
        return None
    title = _group_title(group)
    top = _top(group.reasons)
    if top is not None and top[1] * 2 > group.rejected:
        reason = reason_label(top[0], dict(labels) if labels else None)
        sentence = f"{title}: {top[1]} of {group.total} rejected as '{reason}' this week"
    else:
        sentence = f"{title}: {group.rejected} of {group.total} rejected this week"
    question = (
        "Sales, what would have made these leads worth your time? "
        "Marketing, what could change before the next ones are handed over?"
    )
    gap = (t.min_acceptance - group.acceptance) / max(t.min_acceptance, 1e-9)
    return Fact(
        kind="low_acceptance",
        key=f"{group.kind}:{group.name.lower()}",
        score=gap * _weight(group.total),
        sentence=sentence,
        question=question,
        data={
            "group": group.kind,
            "name": group.name,
            "accepted": group.accepted,
            "rejected": group.rejected,
            "top_reason": top[0] if top else None,
            "top_reason_count": top[1] if top else 0,
        },
    )


def _reason_dominates(agg: WeekAggregates, t: Thresholds, labels: Mapping[str, str] | None) -> Fact | None:
    total = sum(agg.rejection_reasons.values())
    top = _top(agg.rejection_reasons)
    if top is None or total < t.reason_min:
        return None
    code, count = top
    share = count / total
    if share < t.reason_share:
        return None
    reason = reason_label(code, dict(labels) if labels else None)
    return Fact(
        kind="reason_dominates",
        key=f"reason:{code}",
        score=share * _weight(total) * 0.9,  # slightly below a named source: that is more actionable
        sentence=f"{count} of {total} rejections this week were '{reason}'",
        question=(
            f"What does a '{reason}' lead look like from each side? "
            "What could marketing check, or sales tell marketing, so fewer of them are handed over?"
        ),
        data={"reason": code, "count": count, "total": total},
    )


def _sla_rising(agg: WeekAggregates, t: Thresholds) -> Fact | None:
    now, before = agg.sla_breaches, agg.sla_breaches_previous
    if now < t.sla_min or now <= before:
        return None
    rise = (now - before) / before if before else float("inf")
    if rise < t.sla_rise:
        return None
    sentence = (
        f"Follow-up deadlines were missed {now} times this week, up from {before} the week before"
        if before
        else f"Follow-up deadlines were missed {now} times this week, none the week before"
    )
    return Fact(
        kind="sla_rising",
        key="sla",
        score=min(rise, 3.0) * _weight(now) * 0.6,
        sentence=sentence,
        question=(
            "What got in the way of fast follow-up this week, and what would help — "
            "from sales and from marketing?"
        ),
        data={"this_week": now, "previous_week": before},
    )


def _target_behind(target: TargetPace, t: Thresholds) -> Fact | None:
    if target.target <= 0 or target.elapsed < t.pace_min_elapsed or target.pace is not Pace.BEHIND:
        return None
    metric = target.metric
    actual, goal = format_value(metric, target.actual), format_value(metric, target.target)
    where = f"{actual} of {goal}" if metric.cumulative else f"{actual} against a target of {goal}"
    return Fact(
        kind="target_behind",
        key=f"target:{metric.key}:{target.period_label}",
        score=target.shortfall * 1.5,
        sentence=(
            f"{metric.label}: {where} for {target.period_label} "
            f"with {round(target.elapsed * 100)}% of it gone — behind pace"
        ),
        question=(
            f"What could each team do in the rest of {target.period_label} to close the gap on "
            f"{metric.label.lower()}?"
        ),
        data={"metric": metric.key, "actual": target.actual, "target": target.target},
    )


def _insight_theme(agg: WeekAggregates, t: Thresholds) -> Fact | None:
    """What the field keeps hearing: the week's most used insight tag."""
    top = _top(agg.insight_tags)
    if top is None or top[1] < t.insight_min:
        return None
    tag, count = top
    return Fact(
        kind="insight_theme",
        key=f"insight:{tag}",
        score=_weight(count) * 0.8,
        sentence=f"{tag.replace('-', ' ').capitalize()} came up in {count} field insights this week",
        question=(
            f"What are customers telling us about {tag.replace('-', ' ')}, and what should marketing "
            "and sales each say differently because of it?"
        ),
        data={"tag": tag, "count": count},
    )


def _said_by_a_source(reason: Fact, group_facts: Sequence[Fact]) -> bool:
    """A source or campaign stated with the same reason, holding most of those rejections, says
    the same thing more usefully ("Webinar leads: 9 of 14 rejected as 'Not our ICP'")."""
    code, count = reason.data["reason"], reason.data["count"]
    return any(
        f.data.get("top_reason") == code and f.data.get("top_reason_count", 0) * 2 > count
        for f in group_facts
    )


def detect_facts(
    agg: WeekAggregates,
    thresholds: Thresholds | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    skip_keys: Iterable[str] = (),
) -> list[Fact]:
    """Every notable fact of the week, most worth discussing first. `skip_keys`: facts just
    discussed (the last prompt's), so a persistent problem does not become every week's prompt."""
    t = thresholds or Thresholds()
    facts: list[Fact] = []
    for group in agg.groups:
        fact = _low_acceptance(group, t, labels)
        if fact:
            facts.append(fact)
    reason = _reason_dominates(agg, t, labels)
    if reason and not _said_by_a_source(reason, facts):
        facts.append(reason)
    sla = _sla_rising(agg, t)
    if sla:
        facts.append(sla)
    for target in agg.targets:
        fact = _target_behind(target, t)
        if fact:
            facts.append(fact)
    theme = _insight_theme(agg, t)
    if theme:
        facts.append(theme)
    skip = set(skip_keys)
    facts = [f for f in facts if f.key not in skip]
    return sorted(facts, key=lambda f: (-f.score, f.kind, f.key))


# --------------------------------------------------------------------------- schedules

_DAYS = "mon|tue|wed|thu|fri|sat|sun"
_SIMPLE = re.compile(
    rf"^\s*(?P<days>(?:\*|daily|weekdays|(?:{_DAYS})(?:-(?:{_DAYS}))?(?:,(?:{_DAYS})(?:-(?:{_DAYS}))?)*))"
    r"\s+(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)\s*$",
    re.IGNORECASE,
)


def schedule_trigger(spec: str, tz: tzinfo) -> CronTrigger:
    """ "mon 10:00", "mon,thu 09:30", "weekdays 9:00", "daily 17:00", or a 5-field crontab line.
    Raises ValueError with a sentence a person can act on."""
    text = (spec or "").strip()
    match = _SIMPLE.match(text)
    if match:
        days = match["days"].lower()
        days = {"daily": "*", "weekdays": "mon-fri"}.get(days, days)
        return CronTrigger(
            day_of_week=days, hour=int(match["hour"]), minute=int(match["minute"]), timezone=tz
        )
    if len(text.split()) == 5:
        try:
            return CronTrigger.from_crontab(text, timezone=tz)
        except ValueError as exc:
            raise ValueError(f"not a valid crontab line: {exc}") from None
    raise ValueError('use a day and a time like "mon 10:00" (or "weekdays 9:30", or a crontab line)')


def due_fire_time(trigger: CronTrigger, now: datetime, *, grace: timedelta) -> datetime | None:
    """The latest time the schedule fired at or before `now`, if no longer ago than `grace` (so a
    bot that was down at 10:00 and back at 10:20 still posts; one back on Wednesday does not)."""
    fire = trigger.get_next_fire_time(None, now - grace)
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return latest.astimezone(UTC) if latest is not None else None


def is_holiday(when: datetime, holidays: Iterable[date], tz: tzinfo) -> bool:
    """Holidays are calendar dates in the workspace's time zone."""
    return when.astimezone(tz).date() in set(holidays)
