"""The kinds of lead_event rows: the lead's history, and what reports count."""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    CREATED = "created"
    RESUBMITTED = "resubmitted"
    CLAIMED = "claimed"
    RELEASED = "released"
    RETURNED = "returned"  # "Not for us" before a claim
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    STAGE = "stage"  # data: {"from": ..., "to": ..., "amount"?, "currency"?, "reason"?}
    REASSIGNED = "reassigned"
    OFFERED = "offered"  # assign mode: data {"to": rep, "why": "round robin" | "passed" | "no answer"}
    OFFER_PASSED = "offer_passed"  # data {"by": rep, "why": "passed" | "no answer"}
    SLA_REMINDER = "sla_reminder"  # unclaimed past the reminder threshold: counts as an SLA breach
    SLA_ESCALATED = "sla_escalated"
    SLA_VERDICT_NUDGE = "sla_verdict_nudge"
    SLA_STAGE_NUDGE = "sla_stage_nudge"


SLA_BREACHES = frozenset({EventKind.SLA_REMINDER, EventKind.SLA_VERDICT_NUDGE, EventKind.SLA_STAGE_NUDGE})
