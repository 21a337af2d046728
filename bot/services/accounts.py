"""Customers and their owners: a won lead makes (or joins) an account owned by the rep who closed
it; admins reassign owners; accounts are listed in App Home and found with `/lead find`."""

from __future__ import annotations

from bot import messages
from bot.domain.accounts import AccountRef, account_key, company_domain, match_account, normalise_company
from bot.domain.errors import InvalidInput
from bot.services.context import Ctx
from bot.storage.models import Account, Lead


async def on_won(ctx: Ctx, lead: Lead, *, closer_id: str) -> Account | None:
    """The won lead's account: a new one owned by `closer_id`, or the existing one it joins
    (its owner stays). None when the lead names no company (a free-mail address, no company)."""
    key = account_key(company=lead.company, email=lead.email)
    if key is None:
        return None
    existing = await ctx.uow.retention.account_by_key(ctx.team_id, key)
    if existing is None:
        created = await ctx.uow.retention.add_account(
            {
                "team_id": ctx.team_id,
                "key": key,
                "company": lead.company or company_domain(lead.email),
                "domain": company_domain(lead.email),
                "owner_id": closer_id,
                "first_lead_id": lead.id,
                "won_leads": 1,
                "created_at": ctx.now,
                "updated_at": ctx.now,
            }
        )
        account = await ctx.uow.retention.account_by_key(ctx.team_id, key)
        if created:
            return account
        existing = account  # a concurrent win made it first: join it
    assert existing is not None
    await ctx.uow.retention.joined(ctx.team_id, existing.id, ctx.now)
    return existing


async def resolve(ctx: Ctx, text: str) -> Account:
    """The account `text` names: '#12', a domain, or a company name (exactly, then a unique
    partial match)."""
    words = text.strip()
    if words.lstrip("#").isdigit():
        found = await ctx.uow.retention.account(ctx.team_id, int(words.lstrip("#")))
        if found is not None:
            return found
    key = account_key(company=words, email=f"x@{words}" if "." in words and " " not in words else None)
    if key is not None and (found := await ctx.uow.retention.account_by_key(ctx.team_id, key)) is not None:
        return found
    candidates = await ctx.uow.retention.search_accounts(ctx.team_id, words[:200])
    refs = [AccountRef(id=a.id, company=a.company, domain=a.domain) for a in candidates]
    exact = match_account(refs, company=words, email=None)
    if exact is not None:
        return next(a for a in candidates if a.id == exact.id)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise InvalidInput({"account": messages.ACCOUNT_NOT_FOUND.format(account=words[:100])})
    raise InvalidInput({"account": messages.ACCOUNT_AMBIGUOUS.format(count=len(candidates))})


async def set_owner(
    ctx: Ctx, account_text: str, owner_id: str, *, actor_id: str
) -> tuple[Account, str | None]:
    """Admins reassign a customer; the new owner hears it. Returns (account, previous owner)."""
    await ctx.require_admin(actor_id)
    account = await resolve(ctx, account_text)
    before = account.owner_id
    if before != owner_id:
        await ctx.uow.retention.set_owner(ctx.team_id, account.id, owner_id, ctx.now)
        await ctx.notifier.dm(
            ctx.team_id,
            owner_id,
            messages.ACCOUNT_NOW_YOURS.format(company=account.company or account.key, by=actor_id),
        )
        account.owner_id = owner_id
    return account, before


async def list_accounts(ctx: Ctx, limit: int = 50) -> list[Account]:
    return await ctx.uow.retention.accounts(ctx.team_id, limit)


async def find_accounts(ctx: Ctx, query: str, limit: int = 10) -> list[Account]:
    return await ctx.uow.retention.search_accounts(ctx.team_id, query[:200], limit)


def same_company(account: Account, company: str | None) -> bool:
    return bool(company) and normalise_company(account.company) == normalise_company(company)
