"""A HubSpot workflow's "Send a webhook" becomes a lead: each verified request is accepted once
(its signature is remembered for longer than HubSpot's 5-minute window), the contact's properties
are mapped by HUBSPOT_FIELD_MAP, and the intake does the rest (dedupe by the HubSpot record ID)."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.errors import InvalidInput, Unauthenticated
from bot.domain.hubspot import lead_from_contact, parse_field_map
from bot.domain.lead_input import LeadIn, parse_lead
from bot.services.context import Ctx
from bot.services.intake import ItemResult, submit_many

REMEMBER = timedelta(minutes=15)


async def receive_contact(
    ctx: Ctx, payload: object, *, signature: str
) -> tuple[ItemResult, LeadIn | InvalidInput]:
    if not await ctx.uow.keys.remember(
        team_id=ctx.team_id, key=f"hubspot:{signature}", at=ctx.now, ttl=REMEMBER
    ):
        raise Unauthenticated("this request was already received; HubSpot signs each delivery anew")
    data = lead_from_contact(payload, parse_field_map(ctx.settings.hubspot_field_map))
    item: LeadIn | InvalidInput
    try:
        item = parse_lead(data)
    except InvalidInput as exc:
        item = exc
    [result] = await submit_many(ctx, [item], origin="hubspot")
    return result, item
