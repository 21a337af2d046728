"""Intake's fallback when a concurrent writer stores one of a batch's dedupe keys between our lookup
and our INSERT: the batch's savepoint rolls back, each lead is written in its own, and the lead that
lost the race attaches to the stored one as a duplicate."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import load_settings
from bot.domain.lead_input import LeadIn
from bot.services.context import open_context
from bot.services.intake import submit_many
from bot.storage.db import make_session_factory
from bot.storage.models import Lead, LeadEvent, Outbox
from bot.storage.repositories import LeadRepo

TEAM = "T_RACE"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def test_a_key_taken_since_the_lookup_falls_back_to_one_savepoint_per_lead(
    engine: AsyncEngine, database_url: str, monkeypatch
) -> None:
    settings = load_settings(database_url=database_url, sales_channel="C0SALES0001")
    factory = make_session_factory(engine)
    async with open_context(factory, settings, TEAM, now=NOW) as ctx:
        await submit_many(ctx, [LeadIn(email="first@x.io", external_id="race")], origin="api")

    real = LeadRepo.by_dedupe_keys
    calls = 0

    async def blind_once(self: LeadRepo, team_id: str, keys: list[str]) -> dict[str, Lead]:
        nonlocal calls
        calls += 1
        return {} if calls == 1 else await real(self, team_id, keys)  # the first look misses it

    monkeypatch.setattr(LeadRepo, "by_dedupe_keys", blind_once)
    batch = [LeadIn(email="again@x.io", external_id="race"), LeadIn(email="new@x.io", external_id="fresh")]
    async with open_context(factory, settings, TEAM, now=NOW) as ctx:
        results = await submit_many(ctx, batch, origin="api")

    assert [r.status for r in results] == ["duplicate", "created"]
    assert calls == 3  # the batch, then each lead on its own
    async with factory() as session:
        leads = await session.scalar(select(func.count()).select_from(Lead).where(Lead.team_id == TEAM))
        events = await session.scalars(select(LeadEvent.kind).where(LeadEvent.team_id == TEAM))
        cards = await session.scalar(
            select(func.count())
            .select_from(Outbox)
            .where(Outbox.team_id == TEAM, Outbox.purpose == "lead_card")
        )
    assert leads == 2 and cards == 2
    assert sorted(events) == ["created", "created", "resubmitted"]
