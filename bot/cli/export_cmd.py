"""`handoff export leads|feedback|targets [--since DATE] [--format csv|json] [--output FILE]`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date

from bot.clock import SystemClock
from bot.config import ConfigError, Settings
from bot.services.context import load_timezone
from bot.services.export import ExportKind, export_rows, write_export
from bot.storage.db import make_engine, make_read_engine, make_session_factory
from bot.storage.uow import UnitOfWork


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-03-01") from None


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("export", help="export leads, feedback or targets as CSV or JSON")
    parser.add_argument("kind", choices=[k.value for k in ExportKind])
    parser.add_argument("--since", type=_date, help="from this date (workspace time zone), e.g. 2026-01-01")
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument("--output", "-o", help="file to write (default: standard output)")
    parser.add_argument("--team", help="workspace (team ID); needed only when there are several")
    parser.set_defaults(func=run)


async def _team(uow: UnitOfWork, wanted: str | None) -> str:
    if wanted:
        return wanted
    teams = await uow.reports.teams_with_data()
    if len(teams) > 1:
        raise ConfigError(f"--team: this database holds several workspaces ({', '.join(teams)}); pick one")
    return teams[0] if teams else ""


async def run(settings: Settings, args: argparse.Namespace) -> int:
    kind = ExportKind(args.kind)
    # on SQLite a read-only snapshot: the running bot keeps writing meanwhile (the main engine's
    # BEGIN IMMEDIATE would hold its writers off for the whole export)
    engine = make_read_engine(settings.database_url) or make_engine(settings.database_url)
    if not args.output or args.output == "-":
        out = sys.stdout
    else:
        # the file is written row by row as the query streams; opening it is the only blocking step
        out = await asyncio.to_thread(open, args.output, "w", newline="", encoding="utf-8")
    try:
        async with UnitOfWork(make_session_factory(engine)) as uow:
            team = await _team(uow, args.team)
            tz = await load_timezone(uow, settings, team)  # `--since` is a date in the workspace's zone
            rows = export_rows(uow, team, kind, since=args.since, now=SystemClock().now(), tz=tz)
            count = await write_export(rows, kind, args.format, out)
    finally:
        if out is not sys.stdout:
            out.close()
        await engine.dispose()
    print(f"exported {count} {kind.value} rows", file=sys.stderr)
    return 0
