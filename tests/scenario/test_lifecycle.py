"""After acceptance: stage buttons and `/lead status`, won/lost modals, illegal moves refused,
every move recorded; `/lead mine` and `/lead find`."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.domain.events import EventKind
from bot.domain.lead_input import parse_lead
from bot.sandbox import visible_text
from bot.services.intake import submit_lead
from tests.conftest import MARKETING, REP1, REP2, SALES, RunningBot
from tests.scenario.test_verdicts import claimed_lead, events, labels, load


async def accepted_lead(bot: RunningBot, **fields: object) -> int:
    lead_id = await claimed_lead(bot, **fields)
    await bot.slack.click(REP1, "Accept", channel_id=SALES)
    reply = await bot.slack.submit(REP1, {"Lead quality": "4 — good"})
    assert reply.ok and not reply.errors
    await bot.flush()
    return lead_id


async def test_each_stage_from_the_card_up_to_won(bot: RunningBot) -> None:
    lead_id = await accepted_lead(bot)
    bot.clock.advance(hours=1)
    await bot.slack.click(REP1, "Contacted", channel_id=SALES)
    await bot.flush()
    card = bot.fake.latest(SALES)
    assert f"Contacted* · owner <@{REP1}>" in visible_text(card.blocks)
    assert labels(card.blocks) == ["Meeting booked", "Opportunity", "Won", "Lost", "Details", "Remind me"]
    contacted = await load(bot, lead_id)
    assert contacted.contacted_at == bot.clock.now()
    assert contacted.contacted_at - contacted.claimed_at == timedelta(hours=1)  # speed to first contact

    bot.clock.advance(days=1)
    await bot.slack.click(REP1, "Meeting booked", channel_id=SALES)
    await bot.flush()
    await bot.slack.click(REP1, "Opportunity", channel_id=SALES)
    await bot.flush()
    assert labels(bot.fake.latest(SALES).blocks) == ["Won", "Lost", "Details", "Remind me"]

    await bot.slack.click(REP1, "Won", channel_id=SALES)
    view = bot.fake.open_view(REP1)
    assert view is not None and "Won the deal" in visible_text(view)
    bad = await bot.slack.submit(REP1, {"Deal amount": "lots", "Currency": "euro"})
    assert bad.errors is not None and set(bad.errors) == {"amount", "currency"}
    done = await bot.slack.submit(REP1, {"Deal amount": "12,000.50", "Currency": "eur"})
    assert done.ok and not done.errors
    await bot.flush()

    card = bot.fake.latest(SALES)
    assert "Won* · owner" in visible_text(card.blocks) and "12,000.50 EUR" in visible_text(card.blocks)
    assert labels(card.blocks) == ["Details"]
    lead = await load(bot, lead_id)
    assert (lead.status, lead.won_amount, lead.currency) == ("won", Decimal("12000.50"), "EUR")
    stages = [
        (e.data["from"], e.data["to"], e.actor_id)
        for e in await events(bot, lead_id)
        if e.kind == EventKind.STAGE
    ]
    assert stages == [
        ("accepted", "contacted", REP1),
        ("contacted", "meeting_booked", REP1),
        ("meeting_booked", "opportunity", REP1),
        ("opportunity", "won", REP1),
    ]
    # marketing hears the verdict and the outcome, once each
    posted = [visible_text(m.to_dict()) for m in bot.fake.messages(MARKETING)]
    assert (
        len(posted) == 2
        and "Sales accepted" in posted[0]
        and "Won" in posted[1]
        and "12,000.50 EUR" in posted[1]
    )


async def test_lost_needs_a_reason(bot: RunningBot) -> None:
    lead_id = await accepted_lead(bot)
    await bot.slack.click(REP1, "Lost", channel_id=SALES)
    empty = await bot.slack.submit(REP1, {"Why was it lost?": None})
    assert empty.errors == {"lost_reason": "Say why the deal was lost."}
    await bot.slack.submit(REP1, {"Why was it lost?": "Chose <!here> a competitor"})
    await bot.flush()
    lead = await load(bot, lead_id)
    assert (lead.status, lead.lost_reason) == ("lost", "Chose <!here> a competitor")
    card_text = visible_text(bot.fake.latest(SALES).blocks)
    assert "Lost* · owner" in card_text and "Chose &lt;!here&gt; a competitor" in card_text


async def test_skipping_ahead_still_records_first_contact(bot: RunningBot) -> None:
    lead_id = await accepted_lead(bot)
    await bot.slack.click(REP1, "Opportunity", channel_id=SALES)
    await bot.flush()
    lead = await load(bot, lead_id)
    assert lead.status == "opportunity" and lead.contacted_at == lead.opportunity_at


async def test_status_command_moves_the_lead_and_refuses_illegal_moves(bot: RunningBot) -> None:
    lead_id = await accepted_lead(bot)
    await bot.slack.command(REP1, "/lead", f"status {lead_id} meeting booked")
    await bot.flush()
    assert f"Lead #{lead_id} is now *Meeting booked*" in bot.fake.ephemerals(REP1)[-1].text
    assert "Meeting booked* · owner" in visible_text(bot.fake.latest(SALES).blocks)

    await bot.slack.command(REP2, "/lead", f"status {lead_id} opportunity")
    assert "Only the lead's owner" in bot.fake.ephemerals(REP2)[-1].text

    await bot.slack.command(REP1, "/lead", f"status #{lead_id} won 5000 gbp")
    await bot.flush()
    lead = await load(bot, lead_id)
    assert (lead.status, lead.won_amount, lead.currency) == ("won", Decimal("5000"), "GBP")

    await bot.slack.command(REP1, "/lead", f"status {lead_id} contacted")
    assert "This lead is *Won*; it can't move to *Contacted*." in bot.fake.ephemerals(REP1)[-1].text


async def test_won_on_a_rejected_lead_is_refused(bot: RunningBot) -> None:
    lead_id = await claimed_lead(bot)
    await bot.slack.click(REP1, "Reject", channel_id=SALES)
    await bot.slack.submit(REP1, {"Reason": "Bad data", "Lead quality": "1 — poor"})
    await bot.flush()
    await bot.slack.command(REP1, "/lead", f"status {lead_id} won 100 USD")
    assert "This lead is *Rejected*; it can't move to *Won*." in bot.fake.ephemerals(REP1)[-1].text
    assert (await load(bot, lead_id)).status == "rejected"
    assert [e.kind for e in await events(bot, lead_id)][-1] == EventKind.REJECTED


async def test_status_command_without_details_opens_the_form(bot: RunningBot) -> None:
    lead_id = await accepted_lead(bot)
    await bot.slack.command(REP1, "/lead", f"status {lead_id} lost")
    view = bot.fake.open_view(REP1)
    assert view is not None and "Lost the deal" in visible_text(view)
    await bot.slack.submit(REP1, {"Why was it lost?": "No budget after all"})
    assert (await load(bot, lead_id)).status == "lost"


async def test_status_command_explains_its_usage(bot: RunningBot) -> None:
    reply = await bot.slack.command(REP1, "/lead", "status 12")
    assert "Usage: `/lead status" in reply.text
    reply = await bot.slack.command(REP1, "/lead", "status 12 maybe")
    assert "I don't know the stage “maybe”" in reply.text
    await bot.slack.command(REP1, "/lead", "status 999 contacted")
    assert "I can't find lead #999" in bot.fake.ephemerals(REP1)[-1].text


async def test_mine_lists_open_leads_with_next_action_and_clock(bot: RunningBot) -> None:
    first = await accepted_lead(bot)
    second = await claimed_lead(bot, email="bob@beta.io", name="Bob Beta", company="Beta")
    await add_unowned(bot)
    bot.clock.advance(minutes=20)
    reply = await bot.slack.command(REP1, "/lead", "mine")
    assert "Your open leads (2)" in reply.text
    assert f"#{first} *Jane Doe · Acme* · Accepted" in reply.text and "Next: Make first contact" in reply.text
    assert f"#{second} *Bob Beta · Beta* · Claimed" in reply.text and "Next: Accept or reject" in reply.text
    assert "of working time left" in reply.text
    # the claimed lead's verdict is due first, so it is listed first
    assert reply.text.index(f"#{second}") < reply.text.index(f"#{first}")
    assert "no open leads" in (await bot.slack.command(REP2, "/lead", "mine")).text


async def add_unowned(bot: RunningBot) -> None:
    team = await bot.handoff.default_team_id()
    async with bot.handoff.open_context(team) as ctx:
        await submit_lead(ctx, parse_lead({"email": "zed@zeta.io", "name": "Zed"}), origin="api")
    await bot.flush()


async def test_find_searches_this_workspace_only(bot: RunningBot) -> None:
    await claimed_lead(bot)
    async with bot.handoff.open_context("T0ELSEWHERE") as ctx:
        await submit_lead(
            ctx, parse_lead({"email": "jane@acme-other.com", "name": "Jane Other"}), origin="api"
        )
    reply = await bot.slack.command(REP2, "/lead", "find jane")
    assert "*Leads matching “jane”* (1)" in reply.text
    assert "jane@acme.com" in reply.text and f"owner <@{REP1}>" in reply.text
    assert "acme-other" not in reply.text
    assert "No lead matches" in (await bot.slack.command(REP2, "/lead", "find nobody")).text
    assert "Usage" in (await bot.slack.command(REP2, "/lead", "find j")).text
