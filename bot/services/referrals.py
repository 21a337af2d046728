"""Referrals: a customer refers someone; the lead is credited to the customer and the rep who
brought it in (`/lead referral <email> from <customer>`); counts and win rate are target metrics."""

from __future__ import annotations

from bot import messages
from bot.domain.errors import InvalidInput
from bot.domain.lead_input import parse_lead
from bot.services import accounts
from bot.services.context import Ctx
from bot.services.intake import IntakeResult, submit_lead
from bot.storage.models import Account

SOURCE = "referral"


def parse_referral_args(args: str) -> tuple[str, str] | None:
    """'jane@globex.com from Acme Inc' → ('jane@globex.com', 'Acme Inc')."""
    email, sep, customer = args.strip().partition(" from ")
    if not sep or not email.strip() or not customer.strip() or " " in email.strip():
        return None
    return email.strip().removeprefix("<mailto:").split("|", 1)[0].rstrip(">"), customer.strip()


async def refer(ctx: Ctx, *, email: str, customer: str, rep_id: str) -> tuple[IntakeResult, Account, bool]:
    """Create the lead (source `referral`, campaign = the customer) and credit it. Returns the
    intake result, the account and whether this call recorded the referral (False: already was)."""
    account = await accounts.resolve(ctx, customer)
    data = parse_lead(
        {
            "email": email,
            "source": SOURCE,
            "campaign": account.company or account.key,
            "notes": messages.REFERRAL_NOTE.format(company=account.company or account.key, rep=rep_id),
            "fields": {"referred_by_account": account.id, "referred_by_rep": rep_id},
        }
    )
    if data.email_domain and account.domain and data.email_domain == account.domain:
        raise InvalidInput({"email": messages.REFERRAL_SAME_COMPANY})
    result = await submit_lead(ctx, data, origin="slack", actor_id=rep_id)
    recorded = await ctx.uow.retention.add_referral(
        {
            "team_id": ctx.team_id,
            "lead_id": result.lead.id,
            "account_id": account.id,
            "rep_id": rep_id,
            "created_at": ctx.now,
        }
    )
    return result, account, recorded
