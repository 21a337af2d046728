"""After the close: `/lead accounts`, `/handoff account owner`, `/lead followup`, the Remind me
button and its form (customers and follow-ups, issue 19).

Reassigning a customer names a person, so it is a `/handoff` subcommand: Slack escapes that
command's text (`@rob` arrives as `<@U…|rob>`, an ID), `/lead`'s it sends as typed."""

from __future__ import annotations

from slack_sdk.models.views import View

from bot import messages
from bot.domain.errors import InvalidInput, LeadNotFound
from bot.domain.followups import parse_target, parse_user_ref
from bot.handlers.interactions import ClickRequest, InteractionRouter, SubmissionRequest
from bot.handlers.lead_access import may_see, visible_accounts
from bot.handlers.router import CommandRequest, CommandRouter
from bot.ids import ActionId, BlockId, CallbackId, Command
from bot.services import accounts, followups, referrals
from bot.services.intake import NoChannel
from bot.services.lifecycle import load_lead
from bot.slack.blocks.lead_card import slack_date
from bot.slack.blocks.retention import accounts_message, referral_modal, remind_modal
from bot.slack.mrkdwn import escape, mention


def register(routers: dict[Command, CommandRouter], interactions: InteractionRouter) -> None:
    lead = routers[Command.LEAD]
    lead.sub("accounts", "customers", "account")(accounts_command)
    routers[Command.HANDOFF].sub("account")(account_command)
    lead.sub("followup", "remind")(followup_command)
    lead.sub("referral")(referral_command)
    interactions.click(ActionId.REMIND_ME)(on_remind_me)
    interactions.click(ActionId.ACCOUNT_REFERRAL)(on_add_referral)
    interactions.submission(CallbackId.REFERRAL, errors_at=BlockId.EMAIL, fields={"email": BlockId.EMAIL})(
        on_referral_submitted
    )
    interactions.submission(CallbackId.REMIND_ME, errors_at=BlockId.WHEN, fields={"when": BlockId.WHEN})(
        on_remind_submitted
    )


async def accounts_command(req: CommandRequest) -> None:
    if req.args.split()[:1] == ["owner"]:  # the old `/lead account owner …`: @rob arrives as plain text
        await req.ack(text=messages.ACCOUNT_OWNER_MOVED)
        return
    async with req.handoff.open_context(req.team_id) as ctx:
        found = await accounts.list_accounts(ctx)
    found = await visible_accounts(req.handoff, req.client, req.team_id, req.user_id, found)
    if not found:
        await req.ack(text=messages.ACCOUNTS_NONE)
        return
    text, blocks = accounts_message(found)
    await req.ack(text=text, blocks=blocks)


async def account_command(req: CommandRequest) -> None:
    """`/handoff account owner <account> @rep` (admins)."""
    words = req.args.split()
    if len(words) < 3 or words[0].lower() != "owner" or (owner := parse_user_ref(words[-1])) is None:
        await req.ack(text=messages.ACCOUNT_USAGE)
        return
    async with req.handoff.open_context(req.team_id) as ctx:
        account, before = await accounts.set_owner(ctx, " ".join(words[1:-1]), owner, actor_id=req.user_id)
    # after the commit: the answer confirms a write
    await req.ack(
        text=messages.ACCOUNT_OWNER_SET.format(
            owner=mention(owner),
            company=escape(account.company or account.key),
            before=mention(before) if before else "nobody",
        )
    )


async def _require_lead_visible(req: CommandRequest | ClickRequest | SubmissionRequest, lead_id: int) -> None:
    async with req.handoff.open_context(req.team_id) as ctx:
        lead = await load_lead(ctx, lead_id)
    if not await may_see(req.handoff, req.client, req.team_id, req.user_id, lead):
        raise LeadNotFound(lead_id)  # a private channel's lead does not exist for outsiders


async def followup_command(req: CommandRequest) -> None:
    """`/lead followup <lead id> in 3 days|next monday|2026-12-15 [note]`."""
    head, _, rest = req.args.partition(" ")
    if not head.lstrip("#").isdigit() or not rest.strip():
        await req.ack(text=messages.FOLLOWUP_USAGE)
        return
    lead_id = int(head.lstrip("#"))
    try:
        await _require_lead_visible(req, lead_id)
    except LeadNotFound:
        await req.ack(text=messages.LEAD_NOT_FOUND.format(lead_id=lead_id))
        return
    async with req.handoff.open_context(req.team_id) as ctx:
        try:
            followup = await followups.schedule(ctx, user_id=req.user_id, when=rest, lead_id=lead_id)
        except InvalidInput:
            await req.ack(text=messages.FOLLOWUP_WHEN_INVALID)
            return
    await req.ack(
        text=messages.FOLLOWUP_SET.format(what=f"lead #{lead_id}", when=slack_date(followup.due_at))
    )


async def on_remind_me(req: ClickRequest) -> None:
    target = parse_target(req.click.value)
    if target is None:
        return
    kind, target_id = target
    if kind == "lead":
        await _require_lead_visible(req, target_id)
        async with req.transaction() as ctx:
            await followups.require_lead_owner(ctx, user_id=req.user_id, lead_id=target_id)
    await req.open_view(remind_modal(req.click.value, f"{kind} #{target_id}"))


async def on_remind_submitted(req: SubmissionRequest) -> View | None:
    target = parse_target(req.metadata)
    if target is None:
        raise InvalidInput({"when": messages.SOMETHING_WENT_WRONG})
    kind, target_id = target
    if kind == "lead":
        await _require_lead_visible(req, target_id)
    when = str(req.values.get(BlockId.WHEN.value) or "")
    note = str(req.values.get(BlockId.NOTE.value) or "")
    async with req.transaction() as ctx:
        lead_id = target_id if kind == "lead" else None
        account_id = target_id if kind == "account" else None
        if kind == "signal":
            signal = await ctx.uow.retention.signal(ctx.team_id, target_id)
            account_id = signal.account_id if signal is not None else None
        followup = await followups.schedule(
            ctx,
            user_id=req.user_id,
            when=when,
            lead_id=lead_id,
            account_id=account_id,
            note=note,
            owner_only=kind == "lead",  # the lead card's button: the owner's own follow-up
        )
        await ctx.notifier.dm(
            ctx.team_id,
            req.user_id,
            messages.FOLLOWUP_SET.format(what=f"{kind} #{target_id}", when=slack_date(followup.due_at)),
        )
    return None


async def referral_command(req: CommandRequest) -> None:
    """`/lead referral <email> from <customer>`."""
    parsed = referrals.parse_referral_args(req.args)
    if parsed is None:
        await req.ack(text=messages.REFERRAL_USAGE)
        return
    email, customer = parsed
    try:
        async with req.handoff.open_context(req.team_id) as ctx:
            result, account, _ = await referrals.refer(
                ctx, email=email, customer=customer, rep_id=req.user_id
            )
    except NoChannel:
        await req.ack(text=messages.LEAD_NO_CHANNEL)
        return
    # after the commit: the answer confirms the write
    template = messages.REFERRAL_DUPLICATE if result.status == "duplicate" else messages.REFERRAL_CREATED
    await req.ack(
        text=template.format(
            lead_id=result.lead.id,
            email=escape(result.lead.email),
            company=escape(account.company or account.key),
        )
    )


async def on_add_referral(req: ClickRequest) -> None:
    if not req.click.value.isdigit():
        return
    async with req.transaction() as ctx:
        account = await accounts.resolve(ctx, "#" + req.click.value)
    await req.open_view(referral_modal(account))


async def on_referral_submitted(req: SubmissionRequest) -> View | None:
    if not req.metadata.isdigit():
        raise InvalidInput({"email": messages.SOMETHING_WENT_WRONG})
    email = str(req.values.get(BlockId.EMAIL.value) or "")
    async with req.transaction() as ctx:
        result, account, _ = await referrals.refer(
            ctx, email=email, customer="#" + req.metadata, rep_id=req.user_id
        )
        template = messages.REFERRAL_DUPLICATE if result.status == "duplicate" else messages.REFERRAL_CREATED
        await ctx.notifier.dm(
            ctx.team_id,
            req.user_id,
            template.format(
                lead_id=result.lead.id,
                email=escape(result.lead.email),
                company=escape(account.company or account.key),
            ),
        )
    return None
