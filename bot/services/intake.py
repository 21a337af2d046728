"""Intake: one validated lead in, deduplicated, routed, stored with its event and card in one go."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.domain.events import EventKind
from bot.domain.lead import Status
from bot.domain.lead_input import LeadIn
from bot.domain.routing import LeadFacts, RuleSpec, is_hot, next_rep, route
from bot.services.context import Ctx
from bot.slack.mrkdwn import escape, usergroup_mention
from bot.storage.models import Lead, RoutingRule


@dataclass(frozen=True)
class IntakeResult:
    status: str  # created | duplicate
    lead: Lead
    reason: str | None = None


def rule_spec(rule: RoutingRule) -> RuleSpec:
    return RuleSpec(
        id=rule.id,
        name=rule.name,
        priority=rule.priority,
        channel_id=rule.channel_id,
        regions=tuple(rule.regions or ()),
        segments=tuple(rule.segments or ()),
        sources=tuple(rule.sources or ()),
        campaigns=tuple(rule.campaigns or ()),
        email_domains=tuple(rule.email_domains or ()),
        score_min=rule.score_min,
        score_max=rule.score_max,
        reps=tuple(rule.reps or ()),
        hot_usergroup=rule.hot_usergroup,
        hot_score=rule.hot_score,
    )


def facts_of(lead: LeadIn) -> LeadFacts:
    return LeadFacts(
        region=lead.region,
        segment=lead.segment,
        source=lead.source,
        campaign=lead.campaign,
        score=lead.score,
        email_domain=lead.email_domain,
    )


class NoChannel(Exception):
    """No rule matched and no default sales channel is configured."""


async def submit_lead(ctx: Ctx, data: LeadIn, *, origin: str, actor_id: str | None = None) -> IntakeResult:
    """Create the lead (or recognise it as a resubmission). Caller owns the transaction."""
    uow, now = ctx.uow, ctx.now
    existing = await uow.leads.by_dedupe_key(ctx.team_id, data.dedupe_key())
    if existing is None and ctx.settings.duplicate_window_days > 0:
        since = now - timedelta(days=ctx.settings.duplicate_window_days)
        existing = await uow.leads.latest_by_email(ctx.team_id, data.email, since)
    if existing is not None:
        await _note_resubmission(ctx, existing, data, origin=origin, actor_id=actor_id)
        return IntakeResult(status="duplicate", lead=existing, reason="already handed over")

    rules = [rule_spec(r) for r in await uow.rules.enabled(ctx.team_id)]
    decision = route(rules, facts_of(data), await ctx.channel_setting("sales_channel"))
    if decision.channel_id is None:
        raise NoChannel
    assignee = None
    if decision.rule is not None and decision.rule.reps and decision.rule.id is not None:
        cursor = await uow.rules.advance_cursor(ctx.team_id, decision.rule.id)
        assignee, _ = next_rep(decision.rule.reps, cursor, await uow.members.away_users(ctx.team_id))

    lead = Lead(
        team_id=ctx.team_id,
        dedupe_key=data.dedupe_key(),
        external_id=data.external_id,
        email=data.email,
        name=data.name,
        company=data.company,
        title=data.title,
        phone=data.phone,
        source=data.source,
        campaign=data.campaign,
        score=data.score,
        region=data.region,
        segment=data.segment,
        notes=data.notes,
        fields=data.fields,
        submitted_by=actor_id,
        intake_channel=origin,
        status=Status.NEW.value,
        assignee_id=assignee,
        rule_id=decision.rule.id if decision.rule else None,
        route_reason=decision.explanation,
        channel_id=decision.channel_id,
        nurture=False,
        created_at=now,
        updated_at=now,
    )
    await uow.leads.add(lead)
    await uow.events.append(
        team_id=ctx.team_id,
        lead_id=lead.id,
        kind=EventKind.CREATED,
        actor_id=actor_id,
        origin=origin,
        at=now,
        data={"rule": decision.rule.name if decision.rule else None, "channel": decision.channel_id},
    )
    await ctx.notifier.post_lead_card(lead)
    if is_hot(decision.rule, data.score) and decision.rule and decision.rule.hot_usergroup:
        text = f":fire: Hot lead (score {data.score}) for {usergroup_mention(decision.rule.hot_usergroup)}"
        await ctx.notifier.reply_to_lead(lead, text)
    return IntakeResult(status="created", lead=lead)


async def _note_resubmission(
    ctx: Ctx, lead: Lead, data: LeadIn, *, origin: str, actor_id: str | None
) -> None:
    await ctx.uow.events.append(
        team_id=ctx.team_id,
        lead_id=lead.id,
        kind=EventKind.RESUBMITTED,
        actor_id=actor_id,
        origin=origin,
        at=ctx.now,
        data={"source": data.source, "campaign": data.campaign, "external_id": data.external_id},
    )
    where = " · ".join(escape(p) for p in (data.source, data.campaign) if p) or "no source given"
    await ctx.notifier.reply_to_lead(lead, f":repeat: Submitted again ({where}) via {origin}.")
