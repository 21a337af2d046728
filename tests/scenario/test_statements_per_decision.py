"""What a Claim and a `/lead <text>` quick add cost the database, in statements (issue 22): the
hot paths must not grow a duplicate lookup unnoticed. The figures are the statements Handoff's
raw-driver floor in bench/floor_sql.py runs; each one here is one round trip on PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from bot import messages
from bot.domain.errors import LeadAlreadyClaimed
from bot.domain.lead_input import parse_lead
from bot.handlers.interactions import explain
from bot.services.claims import claim_lead
from bot.services.intake import submit_lead
from bot.storage.models import Lead, Outbox, WebhookEndpoint, WorkspaceSetting
from tests.conftest import REP1, REP2, SALES, RunningBot, is_postgres
from tests.scenario.test_card_and_claim import add_lead

WRITE = re.compile(r"(INSERT|UPDATE)(?: INTO)? (\w+)")


@contextmanager
def statements(bot: RunningBot) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()))

    engine = bot.handoff.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def lookups_of(seen: list[str], table: str) -> int:
    return sum(1 for s in seen if s.startswith("SELECT") and f"FROM {table} " in s + " ")


async def test_quick_add_reads_the_webhook_endpoints_once(bot: RunningBot) -> None:
    await bot.slack.command(REP1, "/lead", "warm@acme.com Warm Up, Acme, webinar", channel_id=SALES)
    with statements(bot) as seen:
        reply = await bot.slack.command(
            REP1, "/lead", "jane@acme.com Jane Doe, Acme, webinar", channel_id=SALES
        )
    assert "Jane Doe" in reply.text
    # lead.created and lead.routed both ask for the workspace's endpoints: one read serves both
    assert lookups_of(seen, WebhookEndpoint.__tablename__) == 1, seen
    # the hot-lead score and the sales channel: the workspace's settings, read in one query
    assert lookups_of(seen, WorkspaceSetting.__tablename__) == 1, seen
    writes = sorted(m.group(1) + " " + m.group(2) for s in seen if (m := WRITE.match(s)))
    # the lead, its event, its card and the routing decision's why (issue 18)
    assert writes == ["INSERT lead", "INSERT lead_event", "INSERT outbox", "INSERT routing_decision"]
    async with bot.handoff.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Lead)) == 2
        assert await uow.session.scalar(select(func.count()).select_from(Outbox)) == 2


async def test_a_members_claim_is_one_transaction(bot: RunningBot) -> None:
    first = await add_lead(bot)
    await bot.slack.click(REP1, "Claim", channel_id=SALES)  # the channel's members are now known
    await add_lead(bot, email="joe@acme.com", name="Joe Bloggs")
    card = next(m for m in bot.fake.messages(SALES) if "Joe Bloggs" in str(m.blocks))
    begins: list[object] = []
    engine = bot.handoff.engine.sync_engine
    on_begin = begins.append
    event.listen(engine, "begin", on_begin)
    try:
        with statements(bot) as seen:
            await bot.slack.click(REP2, "Claim", channel_id=SALES, message_ts=card.ts)
    finally:
        event.remove(engine, "begin", on_begin)
    assert len(begins) == 1  # compare-and-set, event and outbox row: one transaction
    writes = [m.group(1) + " " + m.group(2) for s in seen if (m := WRITE.match(s))]
    assert writes == ["UPDATE lead", "INSERT lead_event", "INSERT outbox"], seen
    assert lookups_of(seen, WebhookEndpoint.__tablename__) == 1
    # memory knows REP2 is in #sales, where the click came from: the compare-and-set takes the lead
    # only if it is routed there, so nothing reads it first
    assert lookups_of(seen, Lead.__tablename__) == 0, seen
    async with bot.handoff.uow() as uow:
        owners = dict((await uow.session.execute(select(Lead.id, Lead.owner_id))).all())
    assert owners[first] == REP1 and sorted(owners.values()) == [REP1, REP2]


async def test_a_claim_from_a_channel_the_lead_is_not_in_reads_it_first(bot: RunningBot) -> None:
    """The one-statement Claim misses when the click's channel is not the lead's (here: a card
    whose lead was moved since): nothing written, then the usual read and compare-and-set."""
    await add_lead(bot)
    await bot.slack.click(REP1, "Claim", channel_id=SALES)  # the channel's members are now known
    lead_id = await add_lead(bot, email="joe@acme.com", name="Joe Bloggs")
    card = next(m for m in bot.fake.messages(SALES) if "Joe Bloggs" in str(m.blocks))
    async with bot.handoff.uow() as uow:
        lead = await uow.leads.get(bot.fake.team_id, lead_id)
        assert lead is not None
        lead.channel_id = "C0ELSEWHERE"  # REP2 is not known to be there: Slack is asked
    bot.fake.add_channel("C0ELSEWHERE", name="elsewhere", members=[REP2])
    with statements(bot) as seen:
        await bot.slack.click(REP2, "Claim", channel_id=SALES, message_ts=card.ts)
    assert lookups_of(seen, Lead.__tablename__) == 1, seen
    async with bot.handoff.uow() as uow:
        lead = await uow.leads.get(bot.fake.team_id, lead_id)
        assert lead is not None and lead.owner_id == REP2


async def test_a_claim_that_loses_after_reading_the_lead_names_the_winner(
    bot: RunningBot, database_url: str
) -> None:
    """The one-transaction Claim reads the lead first; when another instance's claim commits between
    that read and the compare-and-set, the loser must be told who won — not shown the row as it was
    at the read (a new lead, "not open to claim"). Found by the three-instance flood test."""
    if not is_postgres(database_url):
        pytest.skip("SQLite runs one writer at a time: nobody commits between the read and the update")
    lead_id = await add_lead(bot)
    team = await bot.handoff.default_team_id()
    async with bot.handoff.open_context(team) as loser:
        seen = await loser.uow.leads.get(team, lead_id)  # held, as the Claim handler holds it
        assert seen is not None and seen.status == "new"
        async with bot.handoff.open_context(team) as winner:
            await claim_lead(winner, lead_id, user_id=REP2)
        with pytest.raises(LeadAlreadyClaimed) as lost:
            await claim_lead(loser, lead_id, user_id=REP1)
    assert lost.value.owner_id == REP2
    assert explain(lost.value, user_id=REP1) == messages.ALREADY_CLAIMED.format(owner=f"<@{REP2}>")


async def test_the_sender_records_a_batch_of_cards_in_a_few_statements(bot: RunningBot) -> None:
    """Recording what became of five posted cards: their rows read once (a read per row before:
    the session's identity map had let them go) and written in one go, then each lead's card ts."""
    team = await bot.handoff.default_team_id()
    async with bot.handoff.open_context(team) as ctx:
        for i in range(5):
            data = {"email": f"lead{i}@acme.com", "name": f"Lead {i}", "company": "Acme", "source": "webinar"}
            await submit_lead(ctx, parse_lead(data), origin="api")
    bot.handoff.sender._recorder.linger = 60  # the five outcomes wait for the drain's flush, together
    with statements(bot) as seen:
        await bot.handoff.sender.drain()
    assert len(bot.fake.messages(SALES)) == 5
    by_id = [s for s in seen if s.startswith("SELECT") and "FROM outbox WHERE outbox.id = " in s]
    assert by_id == [], seen
    outbox_updates = [s for s in seen if s.startswith("UPDATE outbox")]
    assert len(outbox_updates) == 2, seen  # claimed, then recorded: each the five rows at once
    assert len([s for s in seen if s.startswith("UPDATE lead")]) == 5  # each card's ts on its lead
    async with bot.handoff.uow() as uow:
        stored = list(await uow.session.scalars(select(Lead.message_ts).where(Lead.team_id == team)))
    assert sorted(stored) == sorted(m.ts for m in bot.fake.messages(SALES))
