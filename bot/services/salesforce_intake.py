"""A Salesforce Flow's HTTP callout becomes a lead: the Lead's fields are mapped by
SALESFORCE_FIELD_MAP, the Lead Id becomes the external ID (a Flow that fires twice, or a replayed
request, makes one lead), and the intake does the rest. Field errors name the Salesforce field
where one maps to the lead field, so the Flow's fault path says what to fix."""

from __future__ import annotations

from bot.domain.errors import InvalidInput
from bot.domain.lead_input import LeadIn, parse_lead
from bot.domain.salesforce import lead_from_record, parse_field_map
from bot.services.context import Ctx
from bot.services.intake import ItemResult, submit_many


async def receive_lead(ctx: Ctx, payload: object) -> tuple[ItemResult, LeadIn | InvalidInput]:
    mapping = parse_field_map(ctx.settings.salesforce_field_map)
    item: LeadIn | InvalidInput
    try:
        item = parse_lead(lead_from_record(payload, mapping))
    except InvalidInput as exc:
        by_target = {target: field for field, target in mapping.items()}
        item = InvalidInput({by_target.get(key, key): why for key, why in exc.errors.items()})
    [result] = await submit_many(ctx, [item], origin="salesforce")
    return result, item
