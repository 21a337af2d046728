"""Reading one lead with what explains it: its history and the rule that routed it; `lead_json` is
how the lead API (`GET /api/leads/{id}`) and the outbound events show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.errors import LeadNotFound
from bot.domain.lead import Status
from bot.domain.reasons import reason_label
from bot.services.context import Ctx
from bot.storage.models import Lead, LeadEvent, RoutingRule


@dataclass(frozen=True)
class LeadRecord:
    lead: Lead
    events: list[LeadEvent]
    rule: RoutingRule | None
    reasons: dict[str, str]  # the workspace's reject-reason labels
    routing: dict[str, Any] | None = None  # the stored routing decision's why


async def lead_record(ctx: Ctx, lead_id: int) -> LeadRecord:
    lead = await ctx.uow.leads.get(ctx.team_id, lead_id)
    if lead is None:
        raise LeadNotFound(lead_id)
    events = await ctx.uow.events.for_lead(ctx.team_id, lead.id)
    rule = await ctx.uow.rules.get(ctx.team_id, lead.rule_id) if lead.rule_id else None
    decision = await ctx.uow.routing.decision(ctx.team_id, lead.id)
    return LeadRecord(
        lead=lead,
        events=events,
        rule=rule,
        reasons=await ctx.uow.settings.reason_labels(ctx.team_id),
        routing=dict(decision.detail) if decision is not None else None,
    )


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def lead_json(
    lead: Lead,
    events: list[LeadEvent],
    rule: RoutingRule | None,
    reasons: dict[str, str] | None = None,
    routing: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": lead.id,
        "external_id": lead.external_id,
        "email": lead.email,
        "name": lead.name,
        "company": lead.company,
        "title": lead.title,
        "phone": lead.phone,
        "source": lead.source,
        "campaign": lead.campaign,
        "score": lead.score,
        "priority": lead.priority,
        "region": lead.region,
        "segment": lead.segment,
        "notes": lead.notes,
        "fields": lead.fields or {},
        "status": lead.status,
        "status_label": Status(lead.status).label,
        "owner_id": lead.owner_id,
        "suggested_owner": lead.assignee_id,
        "channel_id": lead.channel_id,
        "message_ts": lead.message_ts,
        "rule": rule.name if rule else None,
        "route_reason": lead.route_reason,
        "routing": routing,
        "nurture": bool(lead.nurture),
        "created_at": _iso(lead.created_at),
        "claimed_at": _iso(lead.claimed_at),
        "accepted_at": _iso(lead.accepted_at),
        "rejected_at": _iso(lead.rejected_at),
        "won_at": _iso(lead.won_at),
        "lost_at": _iso(lead.lost_at),
        "feedback": {
            "quality": lead.quality,
            "reject_reason": lead.reject_reason,
            "reject_reason_label": reason_label(lead.reject_reason, reasons) if lead.reject_reason else None,
            "reject_detail": lead.reject_detail,
            "comment": lead.verdict_comment,
            "verdict_at": _iso(lead.verdict_at),
            "won_amount": str(lead.won_amount) if lead.won_amount is not None else None,
            "currency": lead.currency,
            "lost_reason": lead.lost_reason,
        },
        "history": [
            {
                "kind": e.kind,
                "at": _iso(e.created_at),
                "actor_id": e.actor_id,
                "origin": e.origin,
                "data": e.data or {},
            }
            for e in events
        ],
    }


async def lead_view(ctx: Ctx, lead: Lead) -> dict[str, Any]:
    """The lead as `GET /api/leads/{id}` shows it now (in the caller's transaction)."""
    record = await lead_record(ctx, lead.id)
    return lead_json(record.lead, record.events, record.rule, record.reasons, record.routing)
