"""`/lead status`, `/lead mine`, `/lead find`, `/lead nurture`: subcommands of /lead (the bare
`/lead` and quick-add belong to the intake module; both add to the same CommandRouter)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot import messages
from bot.domain.errors import HandoffError, LeadNotFound
from bot.domain.lead import Status, parse_stage
from bot.handlers.interactions import explain
from bot.handlers.lead_access import hidden_channels, may_see, visible_accounts, visible_leads
from bot.handlers.router import CommandRequest, CommandRouter
from bot.handlers.verdicts import change_stage
from bot.ids import Command
from bot.services import accounts, feedback, followups, lifecycle
from bot.services.sla import open_leads_for
from bot.slack.blocks.lead_lists import find_message, mine_message, nurture_message
from bot.slack.blocks.retention import accounts_message, followups_blocks
from bot.slack.mrkdwn import escape

MIN_QUERY = 2


def register(routers: dict[Command, CommandRouter]) -> None:
    lead = routers[Command.LEAD]
    lead.sub("status")(status_command)
    lead.sub("mine")(mine_command)
    lead.sub("find")(find_command)
    lead.sub("nurture")(nurture_command)


def parse_status_args(args: str) -> tuple[int, Status, list[str]] | str:
    """'42 meeting booked' → (42, MEETING_BOOKED, []); '#42 won 12000 EUR' → (42, WON, ['12000',
    'EUR']). A string is the message to show instead."""
    parts = args.split()
    if len(parts) < 2 or not parts[0].lstrip("#").isdigit():
        return messages.STATUS_USAGE
    lead_id = int(parts[0].lstrip("#"))
    if len(parts) >= 3 and (two := parse_stage(f"{parts[1]} {parts[2]}")) is not None:
        return lead_id, two, parts[3:]
    stage = parse_stage(parts[1])
    if stage is None:
        return messages.STATUS_UNKNOWN_STAGE.format(stage=escape(parts[1][:40]))
    return lead_id, stage, parts[2:]


async def status_command(req: CommandRequest) -> None:
    parsed = parse_status_args(req.args)
    if isinstance(parsed, str):
        await req.ack(text=parsed)
        return
    lead_id, stage, rest = parsed
    amount = currency = reason = None
    if stage is Status.WON and rest:
        amount, currency = rest[0], (rest[1] if len(rest) > 1 else None)
    if stage is Status.LOST and rest:
        reason = " ".join(rest)
    # ack first: the answer (or a modal for Won/Lost details) follows through response_url / views.open
    await req.ack()
    try:
        answer = await change_stage(
            req.handoff,
            team_id=req.team_id,
            user_id=req.user_id,
            lead_id=lead_id,
            stage=stage,
            amount=amount,
            currency=currency,
            lost_reason=reason,
            confirm=True,
        )
    except HandoffError as exc:  # after the ack: the same sentences as the stage buttons
        answer = explain(exc, user_id=req.user_id, lead_id=lead_id)
        if not await _may_see(req, lead_id):  # a refusal names the owner: not for outsiders
            answer = messages.LEAD_NOT_FOUND.format(lead_id=lead_id)
    if isinstance(answer, View):
        await req.client.views_open(trigger_id=req.trigger_id, view=answer)
    elif answer:
        await req.respond(text=answer, response_type="ephemeral", replace_original=False)


async def mine_command(req: CommandRequest) -> None:
    async with req.handoff.open_context(req.team_id) as ctx:
        rows = await open_leads_for(ctx, req.user_id)
        upcoming = await followups.upcoming(ctx, req.user_id)
    reminders = followups_blocks(upcoming, messages.FOLLOWUPS_UPCOMING)
    if not rows:
        if reminders:
            await req.ack(text=messages.MINE_NONE, blocks=[*mine_none_blocks(), *reminders])
        else:
            await req.ack(text=messages.MINE_NONE)
        return
    text, blocks = mine_message(rows)
    await req.ack(text=text, blocks=[*blocks, *reminders])


async def find_command(req: CommandRequest) -> None:
    query = req.args.strip()
    if len(query) < MIN_QUERY:
        await req.ack(text=messages.FIND_USAGE)
        return
    async with req.handoff.open_context(req.team_id) as ctx:
        leads = await lifecycle.find_leads(ctx, query)
        customers = await accounts.find_accounts(ctx, query)
    # a lead routed to a private channel is for its members and the admins only; a customer too
    leads = await visible_leads(req.handoff, req.client, req.team_id, req.user_id, leads)
    customers = await visible_accounts(req.handoff, req.client, req.team_id, req.user_id, customers)
    if not leads and not customers:
        await req.ack(text=messages.FIND_NONE.format(query=escape(query[:100])))
        return
    found: list[Block] = accounts_message(customers, "Customers")[1] if customers else []
    text, blocks = find_message(query, leads) if leads else (f"{len(customers)} customers match.", [])
    await req.ack(text=text, blocks=[*found, *blocks][:50])


async def nurture_command(req: CommandRequest) -> None:
    async with req.handoff.open_context(req.team_id) as ctx:
        leads, per_channel = await feedback.nurture_list(ctx)
    leads = await visible_leads(req.handoff, req.client, req.team_id, req.user_id, leads)
    channels = [channel for channel in per_channel if channel]
    hidden = await hidden_channels(req.handoff, req.client, req.team_id, req.user_id, channels)
    total = sum(n for channel, n in per_channel.items() if channel not in hidden)  # hidden: not counted
    if not leads:
        await req.ack(text=messages.NURTURE_NONE)
        return
    text, blocks = nurture_message(leads, total)
    await req.ack(text=text, blocks=blocks)


async def _may_see(req: CommandRequest, lead_id: int) -> bool:
    """Whether the lead exists for this person (a private channel's lead does not for outsiders)."""
    async with req.handoff.open_context(req.team_id) as ctx:
        try:
            lead = await lifecycle.load_lead(ctx, lead_id)
        except LeadNotFound:
            return False
    return await may_see(req.handoff, req.client, req.team_id, req.user_id, lead)


def mine_none_blocks() -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=messages.MINE_NONE))]
