"""`--demo`, after the close: the won leads' customers, a signal on one of them for its owner,
and a field insight in the marketing channel (issue 19)."""

from __future__ import annotations

from bot.domain.lead import Status
from bot.domain.lead_input import parse_lead
from bot.services import accounts, insights, signals
from bot.services.context import Ctx
from bot.storage.models import Lead


async def seed_after_close(ctx: Ctx, leads: list[Lead]) -> None:
    won = [lead for lead in leads if lead.status == Status.WON.value and lead.company and lead.owner_id]
    made = []
    for lead in won:
        account = await accounts.on_won(ctx, lead, closer_id=lead.owner_id or "")
        if account is not None and account not in made:
            made.append(account)
    if not made:
        return
    customer = made[0]
    domain = customer.domain or "example.com"
    await signals.receive(
        ctx,
        parse_lead(
            {
                "email": f"sam.taylor@{domain}",
                "name": "Sam Taylor",
                "company": customer.company,
                "source": "webinar",
            }
        ),
        activity="attended the “Scaling onboarding” webinar",
        origin="demo",
    )
    await insights.share(
        ctx,
        author_id=customer.owner_id or "",
        text=f"{customer.company} says the price per seat is hard to justify for part-time users #pricing",
        lead_id=customer.first_lead_id,
    )
