"""`handoff import leads.csv`: leads from a CSV export (HubSpot, Salesforce, or ours) into Handoff.

Writes to DATABASE_URL directly: leads, their events and outbox rows, 100 rows per transaction with
the same dedupe as every other door; the running bot's outbox sender posts the cards. Exit status 0
when every row was created or recognised as a duplicate, 1 when some rows were invalid (the valid
ones are imported all the same), 2 on a configuration or file problem.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli.workspace import resolve_team, transaction
from bot.clock import Clock
from bot.config import Settings
from bot.domain.csv_headers import map_headers, row_to_lead, written_by_handoff
from bot.domain.errors import InvalidInput
from bot.domain.lead_input import LeadIn, parse_lead
from bot.domain.spreadsheet_cells import restore
from bot.services.intake import submit_many
from bot.storage.db import make_engine, make_session_factory

CHUNK = 100
MAX_FIELD = 1024 * 1024


@dataclass
class ImportSummary:
    created: int = 0
    duplicates: int = 0
    invalid: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (line, errors)

    @property
    def rows(self) -> int:
        return self.created + self.duplicates + len(self.invalid)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import", help="import leads from a CSV file (HubSpot, Salesforce or Handoff export)"
    )
    parser.add_argument("file", help="the CSV file (- for stdin)")
    parser.add_argument("--team-id", help="workspace (default: the only one)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


class Progress:
    """A one-line bar on stderr, redrawn in place; silent when asked to be."""

    def __init__(self, total: int, stream: TextIO, *, enabled: bool = True, width: int = 30) -> None:
        self.total, self.stream, self.enabled, self.width = total, stream, enabled, width

    def update(self, done: int) -> None:
        if not self.enabled or self.total == 0:
            return
        filled = int(self.width * done / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {done}/{self.total} rows ({100 * done // self.total}%)")
        if done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def read_rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, str | None]]]]:
    """(headers, [(line number, row)]); the line number is where the row starts in the file."""
    # the header line decides the delimiter (Excel in many locales writes ';'); data can mislead
    # csv.Sniffer, e.g. a name with commas in a semicolon file
    header_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers = list(reader.fieldnames or [])
    # our own export quoted cells a spreadsheet would run as formulas; give them back as they were
    ours = written_by_handoff(headers)
    rows = []
    start = reader.line_num + 1
    for row in reader:
        rows.append((start, {k: restore(v) if ours and isinstance(v, str) else v for k, v in row.items()}))
        start = reader.line_num + 1
    return headers, rows


async def import_csv(
    settings: Settings,
    text: str,
    *,
    engine: AsyncEngine,
    team_id: str | None = None,
    clock: Clock | None = None,
    progress_stream: TextIO = sys.stderr,
    show_progress: bool = True,
) -> ImportSummary:
    csv.field_size_limit(MAX_FIELD)
    headers, rows = read_rows(text)
    mapping = map_headers(headers)
    if "email" not in mapping.values():
        raise InvalidInput({"header": f"no email column among: {', '.join(headers) or '(none)'}"})
    team = await resolve_team(settings, engine, team_id)
    factory = make_session_factory(engine)
    summary = ImportSummary()
    progress = Progress(len(rows), progress_stream, enabled=show_progress)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        items: list[LeadIn | InvalidInput] = []
        for _, row in chunk:
            try:
                items.append(parse_lead(row_to_lead(row, mapping)))
            except InvalidInput as exc:
                items.append(exc)
        async with transaction(settings, factory, team, clock) as ctx:
            results = await submit_many(ctx, items, origin="csv")
        for (line, _), result in zip(chunk, results, strict=True):
            if result.status == "created":
                summary.created += 1
            elif result.status == "duplicate":
                summary.duplicates += 1
            else:
                summary.invalid.append((line, result.errors or {}))
        progress.update(start + len(chunk))
    return summary


def report(summary: ImportSummary, out: TextIO) -> None:
    out.write(
        f"{summary.rows} rows: {summary.created} created, {summary.duplicates} duplicates, "
        f"{len(summary.invalid)} invalid\n"
    )
    for line, errors in summary.invalid:
        why = "; ".join(f"{k}: {v}" for k, v in errors.items())
        out.write(f"  line {line}: {why}\n")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        text = _read(args.file)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"handoff import: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        summary = await import_csv(
            settings, text, engine=engine, team_id=args.team_id, show_progress=not args.quiet
        )
    except InvalidInput as exc:
        print(f"handoff import: {args.file}: {exc}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    report(summary, sys.stdout)
    return 1 if summary.invalid else 0


def _read(file: str) -> str:
    # utf-8-sig: spreadsheet exports often start with a byte-order mark
    if file == "-":
        return sys.stdin.read()
    return Path(file).read_text(encoding="utf-8-sig")
