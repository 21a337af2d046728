"""Who may act on a lead, and who may see it: decided by the lead itself (its workspace and the
channel it was routed to), never by the channel or metadata a payload names (both can be forged).

- Act (Claim, "Not for us"): members of the lead's channel, the reps of the rule that routed it,
  and the workspace's admins.
- See (`/lead find`, `/lead nurture`, Details, "Why here?"): a lead routed to a private channel is
  for that channel's members and the admins; other leads for anyone in the workspace.
- Customers (`/lead accounts`, `/lead find`, App Home) are seen as the won lead that made them: a
  customer whose lead was won in a private channel is for that channel's members, the admins and
  the customer's owner.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient

from bot.services.context import load_admins

if TYPE_CHECKING:
    from bot.services.runtime import Runtime
    from bot.storage.models import Account, Lead


async def may_act_on(
    handoff: Runtime, client: AsyncWebClient, team_id: str, user_id: str, lead: Lead
) -> bool:
    """Cheapest first: channel membership (remembered for a minute, so a click usually costs no Web
    API call), then one read for the admins and the lead's rule."""
    if not user_id or lead.team_id != team_id:
        return False
    if lead.channel_id and await handoff.channel_members.is_member(client, team_id, lead.channel_id, user_id):
        return True
    async with handoff.uow() as uow:
        if user_id in await load_admins(uow, handoff.settings, team_id):
            return True
        rule = await uow.rules.get(team_id, lead.rule_id) if lead.rule_id is not None else None
    return rule is not None and user_id in (rule.reps or [])


def known_to_act_on(handoff: Runtime, team_id: str, user_id: str, lead: Lead) -> bool:
    """may_act_on's first answer when memory already has it (no Slack call, no database): a member
    of the lead's own channel. False means "ask may_act_on", not "refused"."""
    return bool(
        user_id
        and lead.team_id == team_id
        and lead.channel_id
        and handoff.channel_members.known_member(team_id, lead.channel_id, user_id)
    )


def known_member_of(handoff: Runtime, team_id: str, user_id: str, channel_id: str) -> bool:
    """Whether memory already knows `user_id` is in `channel_id` (no Slack call, no database)."""
    return bool(user_id and channel_id and handoff.channel_members.known_member(team_id, channel_id, user_id))


async def may_act_in_channel(
    handoff: Runtime, client: AsyncWebClient, team_id: str, user_id: str, channel_id: str
) -> bool:
    """For what belongs to a channel rather than to one lead (a bulk batch's "Claim next"): its
    members and the workspace's admins."""
    if not user_id:
        return False
    if await handoff.channel_members.is_member(client, team_id, channel_id, user_id):
        return True
    async with handoff.uow() as uow:
        return user_id in await load_admins(uow, handoff.settings, team_id)


async def visible_leads(
    handoff: Runtime, client: AsyncWebClient, team_id: str, user_id: str, leads: Sequence[Lead]
) -> list[Lead]:
    """`leads` without those routed to a private channel `user_id` is not in (admins see all)."""
    channels = {lead.channel_id for lead in leads if lead.channel_id and lead.team_id == team_id}
    hidden = await hidden_channels(handoff, client, team_id, user_id, channels)
    return [
        lead
        for lead in leads
        if lead.team_id == team_id and (lead.channel_id not in hidden or lead.owner_id == user_id)
    ]


async def hidden_channels(
    handoff: Runtime, client: AsyncWebClient, team_id: str, user_id: str, channels: Iterable[str]
) -> set[str]:
    """Those of `channels` that are private and `user_id` is not in, unless they are an admin."""
    hidden: set[str] = set()
    admin: bool | None = None
    for channel in channels:
        if not await handoff.channel_members.is_private(client, team_id, channel):
            continue
        if await handoff.channel_members.is_member(client, team_id, channel, user_id):
            continue
        if admin is None:
            async with handoff.uow() as uow:
                admin = user_id in await load_admins(uow, handoff.settings, team_id)
        if not admin:
            hidden.add(channel)
    return hidden


async def may_see(handoff: Runtime, client: AsyncWebClient, team_id: str, user_id: str, lead: Lead) -> bool:
    return bool(await visible_leads(handoff, client, team_id, user_id, [lead]))


async def visible_accounts(
    handoff: Runtime, client: AsyncWebClient, team_id: str, user_id: str, accounts: Sequence[Account]
) -> list[Account]:
    """`accounts` without those whose first won lead was routed to a private channel `user_id` is
    not in (their owner and the admins see them all)."""
    first = [a.first_lead_id for a in accounts if a.first_lead_id is not None and a.owner_id != user_id]
    if not first:
        return [a for a in accounts if a.team_id == team_id]
    async with handoff.uow() as uow:
        leads = await uow.leads.get_many(first)
    channels = {lead.channel_id for lead in leads.values() if lead.team_id == team_id and lead.channel_id}
    hidden = await hidden_channels(handoff, client, team_id, user_id, channels)

    def shown(account: Account) -> bool:
        if account.team_id != team_id:
            return False
        if account.owner_id == user_id or account.first_lead_id is None:
            return True
        lead = leads.get((team_id, account.first_lead_id))
        return lead is None or lead.channel_id not in hidden

    return [a for a in accounts if shown(a)]
