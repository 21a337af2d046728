"""`handoff export leads` into `handoff import` on a fresh database: the same leads come back
(every field a lead is made of, free fields included), nothing about Handoff's state is taken for
lead data, and importing the same file again finds only duplicates."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import build_parser, export_cmd, import_cmd
from bot.config import load_settings
from bot.domain.csv_headers import STATE_COLUMNS
from bot.services.export import LEAD_HISTORY_COLUMNS
from bot.storage.db import make_engine, make_session_factory
from bot.storage.migrate import migrate
from bot.storage.models import Lead
from tests.conftest import SALES, _create_pg_database, _drop_pg_database, pg_base_url
from tests.metrics_fixture import insert_history, lead_row

TEAM = "T0TEAM"
# what a lead is made of (LeadIn), as opposed to what Handoff did with it
LEAD_DATA = (
    "email", "external_id", "name", "company", "title", "phone", "source", "campaign", "score",
    "region", "segment", "notes", "fields",
)  # fmt: skip


@pytest.fixture
async def fresh_url(tmp_path: Path) -> AsyncIterator[str]:
    """A second, empty, migrated database (the place the export is imported into)."""
    base = pg_base_url()
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}" if base is None else await _create_pg_database(base)
    engine = make_engine(url)
    await migrate(engine)
    await engine.dispose()
    yield url
    if base is not None:
        await _drop_pg_database(base, url)


async def seed(engine: AsyncEngine) -> None:
    await insert_history(engine, TEAM)  # leads in every state: won, rejected, claimed, new...
    async with make_session_factory(engine)() as session, session.begin():
        rich = lead_row(TEAM, 50, "03-15 09:00", "new", source="events", campaign="booth, hall 2")
        rich.name = 'Zoë O\'Brien, "Zo"'
        rich.title, rich.phone, rich.score = "VP, Growth", "+33 1 23 45 67 89", 87
        rich.region, rich.segment, rich.external_id = "emea", "mid-market", "crm-50"
        rich.notes = 'Met at the booth; said "call me"\nnext week — =SUM(A1) <!channel>'
        rich.fields = {"utm_medium": "cpc", "Lifecycle Stage": "MQL", "employees": 250}
        session.add(rich)


async def leads(url: str) -> dict[str, dict[str, object]]:
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as session:
            rows = await session.scalars(select(Lead).where(Lead.team_id == TEAM))
            return {
                lead.email: {c: getattr(lead, c) for c in LEAD_DATA} | {"status": lead.status}
                for lead in rows
            }
    finally:
        await engine.dispose()


async def run_import(url: str, path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = build_parser().parse_args(["import", str(path), "--team-id", TEAM, "--quiet"])
    code = await import_cmd.run(load_settings(database_url=url, sales_channel=SALES), args)
    return code, capsys.readouterr().out


async def test_exported_leads_import_into_a_fresh_database_as_the_same_leads(
    engine: AsyncEngine, database_url: str, fresh_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(engine)
    path = tmp_path / "leads.csv"
    args = build_parser().parse_args(["export", "leads", "--format", "csv", "--output", str(path)])
    assert await export_cmd.run(load_settings(database_url=database_url), args) == 0
    header = next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert "status" in header and "won_amount" in header  # the export carries the history too

    code, out = await run_import(fresh_url, path, capsys)
    assert (code, out) == (0, "10 rows: 10 created, 0 duplicates, 0 invalid\n"), out
    before, after = await leads(database_url), await leads(fresh_url)
    assert set(after) == set(before) and len(after) == 10
    for email, original in before.items():
        imported = after[email]
        # a lead's data comes back as it was; its history (won, rejected...) is not replayed
        assert {c: imported[c] for c in LEAD_DATA} == {c: original[c] for c in LEAD_DATA}, email
        assert imported["status"] == "new"
    assert after["lead50@example.com"]["fields"] == {
        "utm_medium": "cpc",
        "Lifecycle Stage": "MQL",
        "employees": 250,
    }

    code, out = await run_import(fresh_url, path, capsys)
    assert (code, out) == (0, "10 rows: 0 created, 10 duplicates, 0 invalid\n")
    assert len(await leads(fresh_url)) == 10


def test_every_history_column_of_the_export_is_ignored_by_the_importer() -> None:
    assert set(LEAD_HISTORY_COLUMNS) <= STATE_COLUMNS


async def test_formula_looking_leads_come_back_unquoted_from_the_quoted_export(
    engine: AsyncEngine, database_url: str, fresh_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with make_session_factory(engine)() as session, session.begin():
        evil = lead_row(TEAM, 60, "03-15 09:00", "new", external_id="-60", score=7)
        evil.name, evil.company = '=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0"
        evil.title, evil.notes, evil.phone = "'@quoted", "@SUM(1+1)\n-next line", "+44 20 7946 0000"
        evil.campaign, evil.fields = "=1+1", {"formula": "=1+1"}
        session.add(evil)
    path = tmp_path / "leads.csv"
    args = build_parser().parse_args(["export", "leads", "--output", str(path)])
    assert await export_cmd.run(load_settings(database_url=database_url), args) == 0
    assert "\n=HYPERLINK" not in path.read_text(encoding="utf-8").replace(",", "\n")

    code, out = await run_import(fresh_url, path, capsys)
    assert (code, out) == (0, "1 rows: 1 created, 0 duplicates, 0 invalid\n"), out
    before, after = await leads(database_url), await leads(fresh_url)
    assert {c: after["lead60@example.com"][c] for c in LEAD_DATA} == {
        c: before["lead60@example.com"][c] for c in LEAD_DATA
    }
    assert after["lead60@example.com"]["name"] == '=HYPERLINK("http://evil.example","x")'


async def test_other_tools_csv_keeps_its_leading_quotes(
    fresh_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hubspot.csv"
    path.write_text("Email,First Name,Company\nq@acme.com,'Quinn,'=Acme\n", encoding="utf-8")
    code, _ = await run_import(fresh_url, path, capsys)
    assert code == 0
    imported = (await leads(fresh_url))["q@acme.com"]
    assert (imported["name"], imported["company"]) == ("'Quinn", "'=Acme")
