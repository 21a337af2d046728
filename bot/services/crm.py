"""What follows a lead's move outside Slack: its outbound event (bot/services/webhooks.py) and a
sync of each configured CRM's record (HUBSPOT_ACCESS_TOKEN: the contact; SALESFORCE_CLIENT_ID:
the Lead), all queued in the move's transaction."""

from __future__ import annotations

from bot.domain.events import EventKind
from bot.services import webhooks
from bot.services.context import Ctx
from bot.storage.models import Lead

CRM_MOMENTS: dict[str, str] = {
    EventKind.CLAIMED: "claimed",
    EventKind.RELEASED: "released",
    EventKind.ACCEPTED: "accepted",
    EventKind.REJECTED: "rejected",
    EventKind.STAGE: "stage",
}


async def lead_moved(ctx: Ctx, kind: str, lead: Lead) -> None:
    await webhooks.emit_lead_event(ctx, kind, lead)
    moment = CRM_MOMENTS.get(kind)
    if moment is None:
        return
    if ctx.settings.hubspot_access_token is not None:
        await ctx.notifier.crm_sync(lead, crm="hubspot", moment=moment)
    if ctx.settings.salesforce_client_id is not None:
        await ctx.notifier.crm_sync(lead, crm="salesforce", moment=moment)
