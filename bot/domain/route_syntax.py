"""Routing rules as people write them: `/handoff route add ...` and the YAML file share one model.

    /handoff route add "EMEA enterprise" channel=#C0123 region=emea,apac segment=enterprise
        score>=70 reps=@U1,@U2 priority=10 hot=@S123:80 manager=@U9 mode=assign

Values may be Slack's escaped forms (`<#C123|sales>`, `<@U123|rob>`, `<!subteam^S123|@team>`) or
bare IDs (`#C123`, `@U123`, `S123`). Lists are comma-separated. Score: `score>=70`, `score<=90`,
`score=70-90`. Match keys: region, segment, source, campaign, domain (each also in plural).
Distribution: `reps=@rob*2,@rita` (weights 1–10), `distribute=turn|least_loaded`, `cap=10/day`,
`cap=50/week` (per rep), `catchup=yes`, `hours=yes` (only reps within their working hours),
`owner_first=no` (leads of a known account do not go to its owner first).
SLA: `escalation=manager|reassign` (the rule's own; `workspace`, the default, follows Settings).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.domain.errors import InvalidInput
from bot.domain.lead_input import field_errors

_TOKEN = re.compile(r'[^\s="]+=(?:"[^"]*"|[^\s"])+|"[^"]*"|\S+')
_CHANNEL = re.compile(r"^(?:<#([CG][A-Z0-9]+)(?:\|[^>]*)?>|#?([CG][A-Z0-9]+))$")
_USER = re.compile(r"^(?:<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|@?([UW][A-Z0-9]+))$")
_GROUP = re.compile(r"^(?:<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>|@?(S[A-Z0-9]+))$")
_SCORE = re.compile(r"^score(>=|<=|=)(.+)$", re.IGNORECASE)
_WEIGHTED = re.compile(r"^(.+?)\*(\d{1,3})$")
_CAP = re.compile(r"^(\d{1,6})/(day|week)$", re.IGNORECASE)
_YES = {
    "yes": True,
    "on": True,
    "true": True,
    "1": True,
    "no": False,
    "off": False,
    "false": False,
    "0": False,
}

LIST_KEYS = {
    "region": "regions",
    "segment": "segments",
    "source": "sources",
    "campaign": "campaigns",
    "domain": "email_domains",
    "email_domain": "email_domains",
}


def channel_id(value: str) -> str | None:
    m = _CHANNEL.match(value.strip())
    return (m.group(1) or m.group(2)) if m else None


def user_id(value: str) -> str | None:
    m = _USER.match(value.strip())
    return (m.group(1) or m.group(2)) if m else None


def usergroup_id(value: str) -> str | None:
    m = _GROUP.match(value.strip())
    return (m.group(1) or m.group(2)) if m else None


def _labels(values: list[str] | None) -> list[str] | None:
    cleaned = [v.strip().lower() for v in values or [] if v and v.strip()]
    return cleaned or None


class RuleIn(BaseModel):
    """One rule, validated, whether typed in Slack or read from YAML."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    priority: int = Field(100, ge=0, le=1_000_000)
    enabled: bool = True
    channel: str
    regions: list[str] | None = None
    segments: list[str] | None = None
    sources: list[str] | None = None
    campaigns: list[str] | None = None
    email_domains: list[str] | None = None
    score_min: int | None = Field(None, ge=0, le=100)
    score_max: int | None = Field(None, ge=0, le=100)
    reps: list[str] = Field(default_factory=list)
    hot_usergroup: str | None = None
    hot_score: int | None = Field(None, ge=0, le=100)
    manager: str | None = None
    mode: Literal["claim", "assign"] = "claim"
    # the rule's own SLA escalation; None follows the workspace's mode (Settings)
    escalation: Literal["manager", "reassign"] | None = None
    # distribution (bot/domain/distribution.py)
    weights: dict[str, int] | None = None  # rep → 1..10 (absent: 1); `reps=@a*2,@b` sets it
    distribute: Literal["turn", "least_loaded"] = "turn"
    cap_day: int | None = Field(None, ge=1, le=10_000)
    cap_week: int | None = Field(None, ge=1, le=100_000)
    catch_up: bool = False
    hours: bool = False  # skip reps outside their own working hours and on holidays
    owner_first: bool = True  # a lead of a known account goes to its owner first

    @model_validator(mode="before")
    @classmethod
    def _weighted_reps(cls, data: Any) -> Any:
        """`@rob*2` in reps is rob with weight 2."""
        if not isinstance(data, dict) or not isinstance(data.get("reps"), list):
            return data
        reps, weights = [], dict(data.get("weights") or {})
        for rep in data["reps"]:
            m = _WEIGHTED.match(str(rep).strip())
            if m:
                found = user_id(m.group(1))
                if found is None:
                    raise ValueError(f"{m.group(1)!r} is not a person (mention them with @)")
                weights[found] = int(m.group(2))
                reps.append(found)
            else:
                reps.append(rep)
        return {**data, "reps": reps, "weights": weights or None}

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("a rule needs a name")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        found = channel_id(value)
        if not found:
            raise ValueError("must be a channel such as #C0123456789 (pick it with # in Slack)")
        return found

    @field_validator("regions", "segments", "sources", "campaigns", "email_domains")
    @classmethod
    def _lists(cls, value: list[str] | None) -> list[str] | None:
        return _labels(value)

    @field_validator("email_domains")
    @classmethod
    def _domains(cls, value: list[str] | None) -> list[str] | None:
        return [v.lstrip("@") for v in value] if value else None

    @field_validator("reps")
    @classmethod
    def _reps(cls, value: list[str]) -> list[str]:
        out = []
        for rep in value:
            found = user_id(rep)
            if not found:
                raise ValueError(f"{rep!r} is not a person (mention them with @)")
            if found not in out:
                out.append(found)
        return out

    @field_validator("manager")
    @classmethod
    def _manager(cls, value: str | None) -> str | None:
        if value is None:
            return None
        found = user_id(value)
        if not found:
            raise ValueError("must be a person (mention them with @)")
        return found

    @field_validator("hot_usergroup")
    @classmethod
    def _group(cls, value: str | None) -> str | None:
        if value is None:
            return None
        found = usergroup_id(value)
        if not found:
            raise ValueError("must be a user group (mention it with @)")
        return found

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        if not value:
            return None
        out = {}
        for rep, weight in value.items():
            found = user_id(str(rep))
            if not found:
                raise ValueError(f"{rep!r} is not a person (mention them with @)")
            if not 1 <= int(weight) <= 10:
                raise ValueError("a weight is a whole number from 1 to 10: reps=@rob*2,@rita")
            out[found] = int(weight)
        return out

    @model_validator(mode="after")
    def _consistent(self) -> RuleIn:
        if self.score_min is not None and self.score_max is not None and self.score_min > self.score_max:
            raise ValueError("score_min is above score_max")
        if self.hot_usergroup and self.hot_score is None:
            raise ValueError("hot needs a score threshold: hot=@group:80")
        if self.mode == "assign" and not self.reps:
            raise ValueError("mode=assign hands each lead to the next rep: name them with reps=@a,@b")
        if self.weights:
            unknown = set(self.weights) - set(self.reps)
            if unknown:
                raise ValueError("weights are for the rule's reps: reps=@rob*2,@rita")
            self.weights = {rep: w for rep, w in self.weights.items() if w != 1} or None
        if (self.cap_day or self.cap_week) and not self.reps:
            raise ValueError("a cap limits each rep: name them with reps=@a,@b")
        if self.cap_day and self.cap_week and self.cap_day > self.cap_week:
            raise ValueError("the daily cap is above the weekly one")
        return self

    def weight(self, rep: str) -> int:
        return (self.weights or {}).get(rep, 1)


def validate_rule(data: dict[str, Any]) -> RuleIn:
    try:
        return RuleIn.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc)
        if "lead" in errors:  # model-level errors have no field
            errors["rule"] = errors.pop("lead")
        raise InvalidInput(errors) from None


def tokens(text: str) -> list[str]:
    """Words, a quoted phrase as one ("EMEA enterprise"), and key="a value with spaces"."""
    text = text.replace("“", '"').replace("”", '"')
    out = []
    for token in _TOKEN.findall(text):
        key, eq, value = token.partition("=")
        if eq and '"' in value and not key.startswith('"'):
            token = f"{key}={value.replace(chr(34), '')}"
        elif len(token) >= 2 and token[0] == token[-1] == '"':
            token = token[1:-1]
        out.append(token)
    return out


def parse_route_add(text: str) -> RuleIn:
    """`"Name" key=value ...` → a validated rule, or InvalidInput saying what to fix."""
    parts = tokens(text)
    data: dict[str, Any] = {}
    names: list[str] = []
    for part in parts:
        score = _SCORE.match(part)
        if score:
            op, value = score.groups()
            try:
                if op == "=" and "-" in value:
                    low, high = (int(v) for v in value.split("-", 1))
                    data["score_min"], data["score_max"] = low, high
                elif op == ">=":
                    data["score_min"] = int(value)
                elif op == "<=":
                    data["score_max"] = int(value)
                else:
                    data["score_min"] = data["score_max"] = int(value)
            except ValueError:
                raise InvalidInput({"score": "write score>=70, score<=90 or score=70-90"}) from None
            continue
        key, eq, value = part.partition("=")
        if not eq:
            names.append(part)
            continue
        key = key.lower()
        if key.rstrip("s") in LIST_KEYS or key in LIST_KEYS.values():
            field = LIST_KEYS.get(key.rstrip("s"), key)
            data[field] = [v for v in value.split(",") if v]
        elif key in ("channel", "priority", "manager", "enabled", "mode"):
            data[key] = value
        elif key == "escalation":
            choice = value.lower()
            if choice not in ("manager", "reassign", "workspace"):
                raise InvalidInput({"escalation": "write escalation=manager, reassign or workspace"})
            data["escalation"] = None if choice == "workspace" else choice
        elif key in ("reps", "rep"):
            data["reps"] = [v for v in value.split(",") if v]
        elif key == "cap":
            cap = _CAP.match(value.strip())
            if not cap:
                raise InvalidInput({"cap": "write cap=10/day or cap=50/week (leads per rep)"})
            data["cap_day" if cap.group(2).lower() == "day" else "cap_week"] = int(cap.group(1))
        elif key in ("distribute", "distribution"):
            data["distribute"] = value.lower().replace("-", "_")
        elif key in ("catchup", "catch_up", "hours", "owner_first"):
            if value.lower() not in _YES:
                raise InvalidInput({key: "write yes or no"})
            data[key.replace("catchup", "catch_up")] = _YES[value.lower()]
        elif key == "hot":
            group, _, threshold = value.rpartition(":")
            if not group or not threshold.isdigit():
                raise InvalidInput({"hot": "write hot=@group:80 (the group, then the score threshold)"})
            data["hot_usergroup"], data["hot_score"] = group, int(threshold)
        else:
            raise InvalidInput({key: "unknown setting"})
    if len(names) != 1:
        raise InvalidInput(
            {"name": 'give the rule one name (quote it when it has spaces: "EMEA enterprise")'}
        )
    data["name"] = names[0]
    if "channel" not in data:
        raise InvalidInput({"channel": "say where leads go: channel=#sales"})
    return validate_rule(data)


def describe(rule: RuleIn) -> str:
    """The rule in the `route add` syntax (what `route list` shows and `route add` accepts)."""
    return f'"{rule.name}" {describe_settings(rule)}'


def describe_settings(rule: RuleIn) -> str:
    """Everything but the name; only validated IDs appear as Slack links."""
    out = [f"channel=<#{rule.channel}>", f"priority={rule.priority}"]
    for field, key in (
        ("regions", "region"),
        ("segments", "segment"),
        ("sources", "source"),
        ("campaigns", "campaign"),
        ("email_domains", "domain"),
    ):
        values = getattr(rule, field)
        if values:
            out.append(f"{key}={','.join(values)}")
    if rule.score_min is not None:
        out.append(f"score>={rule.score_min}")
    if rule.score_max is not None:
        out.append(f"score<={rule.score_max}")
    if rule.reps:
        out.append(
            "reps="
            + ",".join(f"<@{r}>" + (f"*{rule.weight(r)}" if rule.weight(r) != 1 else "") for r in rule.reps)
        )
    if rule.distribute != "turn":
        out.append(f"distribute={rule.distribute}")
    if rule.cap_day is not None:
        out.append(f"cap={rule.cap_day}/day")
    if rule.cap_week is not None:
        out.append(f"cap={rule.cap_week}/week")
    if rule.catch_up:
        out.append("catchup=yes")
    if rule.hours:
        out.append("hours=yes")
    if not rule.owner_first:
        out.append("owner_first=no")
    if rule.hot_usergroup:
        out.append(f"hot=<!subteam^{rule.hot_usergroup}>:{rule.hot_score}")
    if rule.manager:
        out.append(f"manager=<@{rule.manager}>")
    if rule.mode != "claim":
        out.append(f"mode={rule.mode}")
    if rule.escalation:
        out.append(f"escalation={rule.escalation}")
    if not rule.enabled:
        out.append("enabled=false")
    return " ".join(out)
