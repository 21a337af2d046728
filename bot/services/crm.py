"""What follows a lead's move outside Slack: its outbound event (bot/services/webhooks.py) and,
with HUBSPOT_ACCESS_TOKEN set, a sync of the HubSpot contact, both queued in the move's
transaction."""

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
    if moment is not None and ctx.settings.hubspot_access_token is not None:
        await ctx.notifier.crm_sync(lead, crm="hubspot", moment=moment)
