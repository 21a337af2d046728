"""Why sales rejects a lead: the default list (admins may configure their own labels)."""

from __future__ import annotations

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


def reason_label(code: str | None, labels: dict[str, str] | None = None) -> str:
    if not code:
        return "—"
    return (labels or REJECT_REASONS).get(code, code.replace("_", " "))
