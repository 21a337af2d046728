"""`handoff import-signals events.csv`: marketing's engagement events (webinar attended, guide
downloaded, trial started) as customer signals. A row whose company is a customer goes to the
account owner (batched per owner per day past a few); any other row is handed over as a lead.
Columns: email (required), name, company, activity (or event), source."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli.import_cmd import _read as read_file
from bot.cli.import_cmd import read_rows
from bot.cli.workspace import resolve_team, transaction
from bot.clock import Clock
from bot.config import Settings
from bot.domain.errors import InvalidInput
from bot.domain.lead_input import parse_lead
from bot.services import signals
from bot.services.intake import NoChannel
from bot.storage.db import make_engine, make_session_factory

ACTIVITY_COLUMNS = ("activity", "event", "engagement", "action")
LEAD_COLUMNS = ("email", "name", "first_name", "last_name", "company", "source", "campaign", "title")


@dataclass
class SignalSummary:
    signals: int = 0
    leads: int = 0
    invalid: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import-signals", help="import engagement events on customers (CSV) as customer signals"
    )
    parser.add_argument("file", help="the CSV file (- for stdin)")
    parser.add_argument("--team-id", help="workspace (default: the only one)")
    parser.set_defaults(func=run)


async def import_signals_csv(
    settings: Settings,
    text: str,
    *,
    engine: AsyncEngine,
    team_id: str | None = None,
    clock: Clock | None = None,
) -> SignalSummary:
    _, rows = read_rows(text)
    team = await resolve_team(settings, engine, team_id)
    factory = make_session_factory(engine)
    summary = SignalSummary()
    for line, row in rows:
        cells = {(k or "").strip().lower().replace(" ", "_"): (v or "").strip() for k, v in row.items()}
        activity = next((cells[c] for c in ACTIVITY_COLUMNS if cells.get(c)), "")
        try:
            data = parse_lead({c: cells[c] for c in LEAD_COLUMNS if cells.get(c)})
            async with transaction(settings, factory, team, clock) as ctx:  # one row, one transaction
                got = await signals.receive(ctx, data, activity=activity, origin="csv")
        except InvalidInput as exc:
            summary.invalid.append((line, exc.errors))
            continue
        except NoChannel:
            summary.invalid.append((line, {"lead": "no customer, and no channel to hand it over in"}))
            continue
        if got.signal is not None:
            summary.signals += 1
        else:
            summary.leads += 1
    return summary


async def run(settings: Settings, args: argparse.Namespace) -> int:
    text = read_file(args.file)
    engine = make_engine(settings.database_url)
    try:
        summary = await import_signals_csv(settings, text, engine=engine, team_id=args.team_id)
    finally:
        await engine.dispose()
    print(
        f"{summary.signals} signals for customers, {summary.leads} handed over as leads, {len(summary.invalid)} invalid"
    )
    for line, errors in summary.invalid:
        print(f"  line {line}: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
    return 1 if summary.invalid else 0
