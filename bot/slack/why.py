"""A stored routing decision (bot.domain.routing_why's JSON) as mrkdwn: what "Why here?" and
`/handoff route test` show. Rule names, lead values and Slack statuses are escaped; only IDs that
look like Slack's become mentions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot import messages
from bot.slack.mrkdwn import escape, mention

_USER = re.compile(r"^[UW][A-Z0-9]{1,30}$")


def _person(user_id: object) -> str:
    text = str(user_id or "")
    return mention(text) if _USER.match(text) else escape(text or "nobody")


def _rule_line(detail: Mapping[str, Any]) -> str:
    rule = detail.get("rule")
    if not rule:
        return messages.WHY_DEFAULT
    reasons = "; ".join(escape(r) for r in detail.get("matched_on") or []) or messages.WHY_RULE_ANY
    return messages.WHY_RULE.format(
        rule=escape(rule.get("name")), priority=rule.get("priority"), reasons=reasons
    )


def _checked_line(detail: Mapping[str, Any]) -> str | None:
    checked = detail.get("checked") or []
    if not checked:
        return None
    rules = ", ".join(f"“{escape(c.get('rule'))}” ({escape(c.get('failed'))})" for c in checked)
    more = int(detail.get("checked_count") or 0) - len(checked)
    template = messages.WHY_CHECKED if detail.get("rule") else messages.WHY_CHECKED_NONE
    return template.format(rules=rules) + (messages.WHY_CHECKED_MORE.format(count=more) if more > 0 else "")


def _account_line(detail: Mapping[str, Any]) -> str | None:
    account = detail.get("account")
    if not account or not account.get("owner"):
        return None
    values = {
        "company": f"*{escape(account.get('company') or 'This company')}*",
        "owner": _person(account.get("owner")),
        "matched_by": escape(account.get("matched_by")),
    }
    if account.get("owner_skipped"):
        return messages.WHY_ACCOUNT_SKIPPED.format(**values, why=escape(account["owner_skipped"]))
    return messages.WHY_ACCOUNT.format(**values)


def _candidate_line(candidate: Mapping[str, Any]) -> str:
    template = messages.WHY_CANDIDATE.get(str(candidate.get("outcome")), messages.WHY_CANDIDATE["waiting"])
    weight = int(candidate.get("weight") or 1)
    counts = messages.WHY_COUNTS.format(
        today=int(candidate.get("today") or 0),
        week=int(candidate.get("week") or 0),
        weight=f", weight {weight}" if weight != 1 else "",
    )
    return template.format(
        rep=_person(candidate.get("user")), why=escape(candidate.get("why")), counts=counts
    )


def _caps(detail: Mapping[str, Any]) -> str:
    caps = detail.get("caps") or {}
    parts = [f"cap {int(caps[k])}/{k} each" for k in ("day", "week") if caps.get(k) is not None]
    return ", ".join(parts)


def why_text(detail: Mapping[str, Any]) -> str:
    """The decision, one fact a line: the rule, the rules checked before it, the account, every
    candidate rep, and the fallback when nobody could take it."""
    lines = [_rule_line(detail)]
    for line in (_checked_line(detail), _account_line(detail)):
        if line:
            lines.append(line)
    candidates = detail.get("candidates") or []
    if candidates and detail.get("method") != "account":
        template = messages.WHY_DISTRIBUTION.get(
            str(detail.get("distribute")), messages.WHY_DISTRIBUTION["turn"]
        )
        caps = _caps(detail)
        lines.append(template.format(extra=f" ({caps})" if caps else ""))
    lines.extend(_candidate_line(c) for c in candidates)
    more = int(detail.get("waiting_more") or 0)
    if more > 0:
        lines.append(messages.WHY_WAITING_MORE.format(count=more))
    if detail.get("fallback"):
        lines.append(messages.WHY_FALLBACK)
    elif detail.get("mode") == "assign" and detail.get("assignee"):
        lines.append(messages.WHY_ASSIGN.format(rep=_person(detail.get("assignee"))))
    return "\n".join(lines)
