"""Reading one lead with what explains it: its history and the rule that routed it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.errors import LeadNotFound
from bot.services.context import Ctx
from bot.storage.models import Lead, LeadEvent, RoutingRule


@dataclass(frozen=True)
class LeadRecord:
    lead: Lead
    events: list[LeadEvent]
    rule: RoutingRule | None
    reasons: dict[str, str]  # the workspace's reject-reason labels


async def lead_record(ctx: Ctx, lead_id: int) -> LeadRecord:
    lead = await ctx.uow.leads.get(ctx.team_id, lead_id)
    if lead is None:
        raise LeadNotFound(lead_id)
    events = await ctx.uow.events.for_lead(ctx.team_id, lead.id)
    rule = await ctx.uow.rules.get(ctx.team_id, lead.rule_id) if lead.rule_id else None
    return LeadRecord(
        lead=lead, events=events, rule=rule, reasons=await ctx.uow.settings.reason_labels(ctx.team_id)
    )
