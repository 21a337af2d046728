"""The hot paths' statements through the driver (bot/storage/raw.py) keep the ORM's promises: they
are part of the unit of work's transaction, they store and read values as the ORM does, a lead the
session holds never shows its old row, and a unique violation is the ORM's IntegrityError."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import make_session_factory
from bot.storage.models import Lead, LeadEvent, Outbox, RoutingDecision
from bot.storage.uow import Conflict, UnitOfWork
from tests.conftest import is_postgres

NOW = datetime(2026, 3, 2, 9, 0, 7, 123456, tzinfo=UTC)
TEAM = "T1"


def lead_row(key: str = "jane@acme.com", **values: object) -> dict[str, object]:
    return {
        "team_id": TEAM,
        "dedupe_key": key,
        "external_id": None,
        "email": key,
        "name": "Jane <Doe>",
        "company": "Acme & Co",
        "title": None,
        "phone": None,
        "source": "webinar",
        "campaign": None,
        "score": 80,
        "region": None,
        "segment": None,
        "notes": 'it\'s "quoted"',
        "fields": {"seats": 12, "tags": ["a", "b"]},
        "submitted_by": "U1",
        "intake_channel": "slack",
        "priority": None,
        "batch_id": None,
        "status": "new",
        "assignee_id": None,
        "rule_id": None,
        "route_reason": None,
        "channel_id": "C1",
        "nurture": False,
        "created_at": NOW,
        "updated_at": NOW,
        "posted_at": None,
        **values,
    }


async def test_rows_written_through_the_driver_read_back_through_the_orm_as_written(
    engine: AsyncEngine,
) -> None:
    factory = make_session_factory(engine)
    async with UnitOfWork(factory) as uow:
        stored = await uow.leads.add_many([lead_row()])
        lead = stored["jane@acme.com"]
        await uow.events.append(
            team_id=TEAM, lead_id=lead.id, kind="created", actor_id=None, origin="api", at=NOW, data={"x": 1}
        )
        await uow.routing.add_decisions(
            [
                {
                    "team_id": TEAM,
                    "lead_id": lead.id,
                    "rule_id": None,
                    "channel_id": "C1",
                    "assignee_id": None,
                    "method": "default",
                    "detail": {"why": "default"},
                    "capped": None,
                    "created_at": NOW,
                }
            ]
        )
    assert lead.fields == {"seats": 12, "tags": ["a", "b"]} and lead.created_at == NOW
    assert lead.posted_at is None and lead.sla_check_at == NOW  # the ORM's insert defaults
    async with UnitOfWork(factory) as uow:
        orm = await uow.session.scalar(select(Lead).where(Lead.id == lead.id))
        assert orm is not None
        for column in Lead.__table__.columns:
            assert getattr(orm, column.name) == getattr(lead, column.name), column.name
        event = await uow.session.scalar(select(LeadEvent).where(LeadEvent.lead_id == lead.id))
        assert event is not None and event.data == {"x": 1} and event.created_at == NOW
        decision = await uow.session.scalar(select(RoutingDecision))
        assert decision is not None and decision.detail == {"why": "default"}
        # JSON's null, as the ORM stores a None given for a JSON column
        capped = await uow.session.scalar(text("SELECT capped IS NULL FROM routing_decision"))
        assert not capped


async def test_they_roll_back_with_the_transaction(engine: AsyncEngine) -> None:
    factory = make_session_factory(engine)
    with pytest.raises(RuntimeError):
        async with UnitOfWork(factory) as uow:
            await uow.leads.add_many([lead_row()])
            await uow.outbox.add(
                {
                    "team_id": TEAM,
                    "method": "chat.postMessage",
                    "channel_id": "C1",
                    "payload": {"text": "hi"},
                    "next_attempt_at": NOW,
                    "rank_at": NOW,
                    "created_at": NOW,
                }
            )
            raise RuntimeError("the service failed after its writes")
    async with UnitOfWork(factory) as uow:
        assert await uow.session.scalar(select(Lead)) is None
        assert await uow.session.scalar(select(Outbox)) is None


async def test_a_lead_the_session_holds_shows_the_compare_and_set(engine: AsyncEngine) -> None:
    factory = make_session_factory(engine)
    async with UnitOfWork(factory) as uow:
        lead_id = (await uow.leads.add_many([lead_row()]))["jane@acme.com"].id
    async with UnitOfWork(factory) as uow:
        held = await uow.leads.get(TEAM, lead_id)  # through the ORM, into the session
        assert held is not None and held.status == "new"
        later = NOW + timedelta(minutes=5)
        moved = await uow.leads.set_if(
            TEAM,
            lead_id,
            expected=["new"],
            values={"status": "claimed", "owner_id": "U2", "updated_at": later},
        )
        assert moved is held and held.status == "claimed" and held.owner_id == "U2"
        assert held.sla_check_at == later  # the claim restarts the SLA clock in the same statement
        assert await uow.leads.set_if(TEAM, lead_id, expected=["new"], values={"updated_at": later}) is None
    async with UnitOfWork(factory) as uow:
        stored = await uow.leads.read(TEAM, lead_id)
        assert stored is not None and (stored.status, stored.owner_id) == ("claimed", "U2")
        assert await uow.leads.read("T2", lead_id) is None  # another workspace's lead does not exist


async def test_orm_changes_not_yet_written_go_first(engine: AsyncEngine) -> None:
    factory = make_session_factory(engine)
    async with UnitOfWork(factory) as uow:
        lead_id = (await uow.leads.add_many([lead_row(won_amount=None)]))["jane@acme.com"].id
    async with UnitOfWork(factory) as uow:
        held = await uow.leads.get(TEAM, lead_id)
        assert held is not None
        held.won_amount = Decimal("1200.50")  # pending in the session, not flushed
        moved = await uow.leads.set_if(
            TEAM, lead_id, expected=["new"], values={"status": "claimed", "updated_at": NOW}
        )
        assert moved is not None and moved.won_amount == Decimal("1200.50")
    async with UnitOfWork(factory) as uow:
        stored = await uow.leads.read(TEAM, lead_id)
        assert stored is not None and stored.won_amount == Decimal("1200.50") and stored.status == "claimed"


async def test_a_unique_violation_is_the_orms_integrity_error(engine: AsyncEngine) -> None:
    factory = make_session_factory(engine)
    async with UnitOfWork(factory) as uow:
        await uow.leads.add_many([lead_row()])
    async with UnitOfWork(factory) as uow:
        with pytest.raises(Conflict):
            async with uow.savepoint():
                await uow.leads.add_many([lead_row()])  # the same dedupe key
        # the savepoint rolled back; the transaction goes on
        await uow.leads.add_many([lead_row("joe@acme.com")])
    async with UnitOfWork(factory) as uow:
        assert len(list(await uow.session.scalars(select(Lead.id)))) == 2
    with pytest.raises(IntegrityError):
        async with UnitOfWork(factory) as uow:
            await uow.leads.add_many([lead_row()])


async def test_a_connection_the_server_closed_is_never_handed_out(
    engine: AsyncEngine, database_url: str
) -> None:
    """Without pool_pre_ping's three round trips per checkout (bot/storage/db.py): the pool's idle
    connection killed by the server (as a restart does) is replaced, not used and failed."""
    if not is_postgres(database_url):
        pytest.skip("SQLite has no server to drop connections")
    async with engine.connect() as conn:
        pid = await conn.scalar(text("SELECT pg_backend_pid()"))
    killer = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        assert await killer.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await killer.close()
    await asyncio.sleep(0.2)  # the server's goodbye reaches the pooled connection
    async with UnitOfWork(make_session_factory(engine)) as uow:  # the first try works
        assert await uow.leads.read(TEAM, 1) is None
        assert await uow.session.scalar(text("SELECT pg_backend_pid()")) != pid


def outbox_row(text_: str) -> dict[str, object]:
    return {
        "team_id": TEAM,
        "method": "chat.postMessage",
        "channel_id": "C1",
        "payload": {"text": text_},
        "next_attempt_at": NOW,
        "rank_at": NOW,
        "created_at": NOW,
    }


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements the driver was sent through bot.storage.raw, one per round trip."""
    from bot.storage import raw

    sent: list[str] = []
    real = raw._asyncpg

    async def counted(adapted: object, sql: str, params: object, *, fetch: bool) -> object:
        sent.append(sql)
        return await real(adapted, sql, params, fetch=fetch)  # type: ignore[arg-type]

    monkeypatch.setattr(raw, "_asyncpg", counted)
    return sent


async def test_postgres_sends_a_claims_event_and_card_row_with_its_next_read(
    engine: AsyncEngine, database_url: str, round_trips: list[str]
) -> None:
    if not is_postgres(database_url):
        pytest.skip("SQLite has no round trips to save")
    factory = make_session_factory(engine)
    async with UnitOfWork(factory) as uow:
        lead_id = (await uow.leads.add_many([lead_row()]))["jane@acme.com"].id
    round_trips.clear()
    async with UnitOfWork(factory) as uow:
        await uow.events.append(
            team_id=TEAM, lead_id=lead_id, kind="claimed", actor_id="U1", origin="slack", at=NOW
        )
        await uow.outbox.add(outbox_row("card update"))
        assert round_trips == []  # waiting for the next statement
        assert await uow.webhooks.endpoints(TEAM) == []
        assert len(round_trips) == 1 and round_trips[0].startswith("WITH w0 AS (INSERT INTO lead_event")
        # and what the ORM reads next in the transaction sees rows that were still waiting
        await uow.outbox.add(outbox_row("another"))
        texts = [row.payload["text"] for row in await uow.session.scalars(select(Outbox).order_by(Outbox.id))]
        assert texts == ["card update", "another"]


async def test_postgres_keeps_a_channels_rows_in_the_order_they_were_queued(
    engine: AsyncEngine, database_url: str, round_trips: list[str]
) -> None:
    if not is_postgres(database_url):
        pytest.skip("SQLite sends each at once")
    factory = make_session_factory(engine)
    async with UnitOfWork(factory) as uow:
        lead_id = (await uow.leads.add_many([lead_row()]))["jane@acme.com"].id
        await uow.outbox.add(outbox_row("first"))
        await uow.events.append(team_id=TEAM, lead_id=lead_id, kind="x", actor_id=None, origin="api", at=NOW)
        await uow.outbox.add(outbox_row("second"))  # a second row for the table: the first goes now
    async with UnitOfWork(factory) as uow:
        texts = [row.payload["text"] for row in await uow.session.scalars(select(Outbox).order_by(Outbox.id))]
    assert texts == ["first", "second"]


async def test_a_failed_savepoint_forgets_its_writes_and_keeps_the_rest(
    engine: AsyncEngine, database_url: str
) -> None:
    factory = make_session_factory(engine)
    async with UnitOfWork(factory) as uow:
        await uow.leads.add_many([lead_row()])
    async with UnitOfWork(factory) as uow:
        await uow.outbox.add(outbox_row("kept"))
        with pytest.raises(Conflict):
            async with uow.savepoint():
                await uow.outbox.add(outbox_row("rolled back"))
                await uow.leads.add_many([lead_row()])  # the same dedupe key
        with pytest.raises(RuntimeError):
            async with uow.savepoint():
                await uow.outbox.add(outbox_row("rolled back too"))
                raise RuntimeError("the service failed inside its savepoint")
    async with UnitOfWork(factory) as uow:
        texts = [row.payload["text"] for row in await uow.session.scalars(select(Outbox))]
    assert texts == ["kept"]


async def test_a_thousand_lead_batch_stays_under_the_drivers_parameter_limit(engine: AsyncEngine) -> None:
    """An import's chunk: every row of lead, decision, card and event INSERTs (chunked, and on
    PostgreSQL riding together) stored once, under asyncpg's 32,767 parameters a statement."""
    count = 1200
    factory = make_session_factory(engine)
    async with UnitOfWork(factory) as uow:
        stored = await uow.leads.add_many([lead_row(f"lead{i}@acme.com") for i in range(count)])
        ids = [stored[f"lead{i}@acme.com"].id for i in range(count)]
        decision = {"rule_id": None, "channel_id": "C1", "assignee_id": None, "method": "default"}
        await uow.routing.add_decisions(
            [
                {"team_id": TEAM, "lead_id": i, **decision, "detail": {}, "capped": None, "created_at": NOW}
                for i in ids
            ]
        )
        await uow.outbox.add_many([{**outbox_row(f"card {i}"), "lead_id": i} for i in ids])
        await uow.events.append_many(
            [
                {
                    "team_id": TEAM,
                    "lead_id": i,
                    "kind": "created",
                    "actor_id": None,
                    "origin": "csv",
                    "created_at": NOW,
                }
                for i in ids
            ]
        )
        assert await uow.webhooks.endpoints(TEAM) == []
    async with UnitOfWork(factory) as uow:
        for model in (Lead, RoutingDecision, Outbox, LeadEvent):
            assert len(list(await uow.session.scalars(select(model.id)))) == count, model.__name__
        texts = [r.payload["text"] for r in await uow.session.scalars(select(Outbox).order_by(Outbox.id))]
    assert texts == [f"card {i}" for i in ids]  # queued order kept
