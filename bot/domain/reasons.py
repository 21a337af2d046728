"""Why sales rejects a lead: the default list, and the workspace's own list (the `reject_reasons`
workspace setting) made usable. Read the setting through SettingRepo.reject_reasons only."""

from __future__ import annotations

from typing import Any

REJECT_REASONS: dict[str, str] = {
    "not_icp": "Not our ICP",
    "no_budget": "No budget or authority",
    "wrong_contact": "Wrong contact",
    "duplicate": "Duplicate",
    "bad_data": "Bad data",
    "not_ready": "Not ready — recycle to nurture",
    "other": "Other",
}
NURTURE_REASON = "not_ready"
OTHER = "other"
REASONS_KEY = "reject_reasons"  # workspace_setting: {code: label}, or a list of labels
RETIRED_REASONS_KEY = "reject_reasons_retired"  # workspace_setting: {code: label} no longer offered


def normalise_reasons(value: Any) -> dict[str, str]:
    """Admins' list of reasons (a {code: label} mapping, or a list of labels) → {code: label};
    anything unusable falls back to the defaults, and "Other" is always offered."""
    reasons: dict[str, str] = {}
    if isinstance(value, dict):
        reasons = {
            str(k).strip(): str(v).strip() for k, v in value.items() if str(k).strip() and str(v).strip()
        }
    elif isinstance(value, list):
        for item in value:
            label = str(item).strip()
            code = "_".join(label.lower().split())[:64]
            if label and code:
                reasons[code] = label
    if not reasons:
        reasons = dict(REJECT_REASONS)
    reasons.setdefault(OTHER, REJECT_REASONS[OTHER])
    return {k[:64]: v[:75] for k, v in reasons.items()}


def reason_label(code: str | None, labels: dict[str, str] | None = None) -> str:
    """The workspace's label for a code; a code from the default list (a lead rejected before the
    admins set their own) keeps its default label; anything else reads as words."""
    if not code:
        return "—"
    return (labels or {}).get(code) or REJECT_REASONS.get(code) or code.replace("_", " ")


def retired_reasons(value: Any) -> dict[str, str]:
    """The retired reasons' {code: label}; anything unusable is none."""
    if not isinstance(value, dict):
        return {}
    return {str(k)[:64]: str(v)[:75] for k, v in value.items() if str(k).strip() and str(v).strip()}
