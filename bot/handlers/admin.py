"""Admin commands: `/handoff route list|add|remove|test`, and `/handoff away|back` for reps."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.quick_add import unslack
from bot.domain.route_syntax import RuleIn, describe_settings, parse_route_add, tokens, user_id
from bot.domain.routing import LeadFacts
from bot.handlers.router import CommandRequest, CommandRouter
from bot.ids import Command
from bot.services.routing_rules import (
    add_rule,
    edit_rule,
    fairness,
    list_rules,
    remove_rule,
    rule_in,
    set_away,
    simulate,
    test_route,
)
from bot.slack.mrkdwn import channel_link, escape, mention, truncate
from bot.slack.routing_reports import fairness_text, simulation_text
from bot.slack.why import why_text

ROUTE_USAGE = """*Routing rules* (admins)
• `/handoff route list`
• `/handoff route add "EMEA enterprise" channel=#emea-sales region=emea segment=enterprise score>=70 reps=@rob,@rita priority=10 hot=@sales-leads:80 manager=@boss`
  match on `region` `segment` `source` `campaign` `domain` (comma-separated lists) and `score>=` `score<=` `score=70-90`; lower priority is checked first
  who: `reps=@rob*2,@rita` (weights) `distribute=turn|least_loaded` `cap=10/day` `cap=50/week` `catchup=yes` `hours=yes` (working hours in each rep's zone) `owner_first=no` (by default a known account's lead goes to its owner first)
• `/handoff route edit "EMEA enterprise" channel=#emea-sales reps=@rob,@rita,@ray …` (all its settings again; its reps keep their counts)
• `/handoff route remove "EMEA enterprise"`
• `/handoff route test region=emea segment=enterprise score=80 email=jane@acme.com company=Acme`
• `/handoff route simulate 200 "EMEA enterprise" channel=#emea-sales reps=@rob,@rita` (the last 200 leads, now and with the draft; nothing is saved)
• `/handoff route fairness 4` (per rep per week: offered, claimed, passed, capped)"""


def register(app: AsyncApp, routers: dict[Command, CommandRouter]) -> None:
    handoff = routers[Command.HANDOFF]
    handoff.sub("route", "routes")(route_command)
    handoff.sub("away")(away_command)
    handoff.sub("back")(back_command)


async def route_command(req: CommandRequest) -> None:
    await req.require_admin()
    action, _, rest = req.args.partition(" ")
    action, rest = action.lower(), rest.strip()
    # the rule syntax is ours: Slack's &lt;/&gt;/&amp; are turned back, its <#C|x> forms are parsed
    if action in ("", "help"):
        await req.ack(text=ROUTE_USAGE)
    elif action == "list":
        await _list(req)
    elif action == "add":
        spec = parse_route_add(_unescape_entities(rest))
        async with req.handoff.open_context(req.team_id) as ctx:
            rule = await add_rule(ctx, spec)
        await req.ack(text=f":white_check_mark: Added rule #{rule.id}: {shown(spec)}")
    elif action in ("edit", "update"):
        spec = parse_route_add(_unescape_entities(rest))
        async with req.handoff.open_context(req.team_id) as ctx:
            rule = await edit_rule(ctx, spec)
        await req.ack(text=f":pencil2: Rule #{rule.id} is now: {shown(spec)} (its reps keep their counts)")
    elif action in ("remove", "delete", "rm"):
        if not rest:
            raise InvalidInput({"rule": 'say which: /handoff route remove "EMEA enterprise"'})
        async with req.handoff.open_context(req.team_id) as ctx:
            rule = await remove_rule(ctx, _unescape_entities(rest))
        await req.ack(text=f":wastebasket: Removed rule “{escape(rule.name)}”.")
    elif action == "test":
        await _test(req, rest)
    elif action == "simulate":
        await _simulate(req, rest)
    elif action == "fairness":
        await _fairness(req, rest)
    else:
        await req.ack(text=ROUTE_USAGE)


def _unescape_entities(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def shown(spec: RuleIn) -> str:
    """A rule for Slack: the name escaped, the settings with links to the channel and people."""
    return f"“{escape(spec.name)}” {describe_settings(spec)}"


async def _list(req: CommandRequest) -> None:
    async with req.handoff.open_context(req.team_id) as ctx:
        rules = await list_rules(ctx)
        default = await ctx.channel_setting("sales_channel")
    lines = [f"*Routing rules* (checked in priority order; no match → {channel_link(default)})"]
    if not rules:
        lines.append("No rules yet. " + ROUTE_USAGE.splitlines()[2].lstrip("• "))
    for rule in rules:
        lines.append(f"• #{rule.id} {shown(rule_in(rule))}")
    await req.ack(text=truncate("\n".join(lines), 3900))


async def _test(req: CommandRequest, rest: str) -> None:
    values: dict[str, str] = {}
    for part in tokens(unslack(rest)):
        key, eq, value = part.partition("=")
        if not eq:
            raise InvalidInput({part: "write key=value, e.g. region=emea score=80 email=jane@acme.com"})
        values[key.lower()] = value
    unknown = set(values) - {"region", "segment", "source", "campaign", "score", "email", "domain", "company"}
    if unknown:
        raise InvalidInput(
            {k: "unknown; use region, segment, source, campaign, score, email, company" for k in unknown}
        )
    score = values.get("score")
    if score is not None and not score.isdigit():
        raise InvalidInput({"score": "must be a whole number from 0 to 100"})
    domain = values.get("domain") or values.get("email", "").rpartition("@")[2]
    facts = LeadFacts(
        region=(values.get("region") or "").lower() or None,
        segment=(values.get("segment") or "").lower() or None,
        source=(values.get("source") or "").lower() or None,
        campaign=values.get("campaign"),
        score=int(score) if score is not None else None,
        email_domain=domain.lower(),
    )
    async with req.handoff.open_context(req.team_id) as ctx:
        result = await test_route(
            ctx,
            facts,
            company=values.get("company"),
            email=values.get("email") or (f"x@{domain}" if domain else None),
        )
    decision = result.decision
    text = f"A lead like that goes to {channel_link(decision.channel_id)}.\n{why_text(result.why.to_json())}"
    if decision.channel_id is None:
        text = "No rule matches and no default sales channel is set: a lead like that would be refused."
    elif result.next_rep:
        text += f"\nNext in the rotation: {mention(result.next_rep)}."
    await req.ack(text=truncate(text, 3900))


async def _simulate(req: CommandRequest, rest: str) -> None:
    """`simulate [N] ["Draft" key=value ...]`: the last N leads (default 100) through the rules,
    and with the draft saved (replacing the rule of its name)."""
    first, _, draft_text = rest.partition(" ")
    count = 100
    if first.isdigit():
        count = int(first)
    elif first:
        draft_text = rest
    elif rest:
        raise InvalidInput({"count": "write /handoff route simulate 200"})
    draft = parse_route_add(_unescape_entities(draft_text.strip())) if draft_text.strip() else None
    async with req.handoff.open_context(req.team_id) as ctx:
        result = await simulate(ctx, count, draft)
    text = simulation_text(
        count=result.leads,
        channels_now=result.now.channels,
        reps_now=result.now.reps,
        channels_draft=result.draft.channels if result.draft else None,
        reps_draft=result.draft.reps if result.draft else None,
        draft_name=result.draft_name,
        moved=result.moved,
    )
    await req.ack(text=truncate(text, 3900))


async def _fairness(req: CommandRequest, rest: str) -> None:
    weeks = rest.split()[0] if rest.split() else "2"
    if not weeks.isdigit():
        raise InvalidInput({"weeks": "write /handoff route fairness 4 (weeks, this one first)"})
    async with req.handoff.open_context(req.team_id) as ctx:
        report = await fairness(ctx, int(weeks))
    await req.ack(text=truncate(fairness_text([(w.label, w.reps) for w in report]), 3900))


async def _away(req: CommandRequest, *, away: bool) -> None:
    """`/handoff away [@rep] [2026-12-24..2026-12-31 | until 2026-12-31 | 2026-12-24]`, `/handoff back [@rep]`."""
    target = req.user_id
    words = req.args.split()
    if words and (words[0].startswith(("<@", "@")) or user_id(words[0])):
        other = user_id(words[0])
        if other is None:
            raise InvalidInput({"user": "mention the person: /handoff away @rob"})
        if other != req.user_id:
            if not await req.is_admin():
                raise NotAllowed("Only admins can set someone else away or back.")
            target = other
        words = words[1:]
    days = " ".join(words) if away else ""
    async with req.handoff.open_context(req.team_id) as ctx:
        off = await set_away(ctx, target, away=away, days=days or None)
    who = "You are" if target == req.user_id else f"{mention(target)} is"
    if off is not None:
        first, last = off
        span = first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
        zone = "your" if target == req.user_id else "their"
        await req.ack(
            text=f":palm_tree: {who} away {span} (in {zone} own time zone): routing skips them then."
        )
    elif away:
        await req.ack(text=f":palm_tree: {who} away: round robin skips you until `/handoff back`.")
    else:
        await req.ack(text=f":wave: {who} back in the round robin.")


async def away_command(req: CommandRequest) -> None:
    await _away(req, away=True)


async def back_command(req: CommandRequest) -> None:
    await _away(req, away=False)
