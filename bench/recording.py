"""Benchmark: what recording a posted card's outcome costs the outbox sender.

For each database: create leads through the intake service (each queues its card), claim the card
rows as the sender would, then record "sent" for them in batches of each size, the way the sender's
recorder hands them to its writer — CPU of the writer per outcome (the loop's thread; nothing else
runs meanwhile), and the statements each batch sent. Every lead must end up with its card's ts.

    python -m bench.recording [--db sqlite,postgresql] [--outcomes 500] [--batches 1,10,50]

The recorder lingers up to 20 ms for more outcomes (bot/outbox/recording.py). How big its batches
come out depends on how fast cards go out: 1,000 quick adds in process, their cards to one unpaced
channel, were recorded in batches of 2.7 on average with a 10 ms linger and 8.1 with 30 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from itertools import count

from sqlalchemy import event, func, select

from bench.common import SALES, Row, bench_database, card_app, databases, make_fake, table
from bot.app import Handoff
from bot.cli.run_cmd import freeze_startup_heap
from bot.domain.lead_input import parse_lead
from bot.outbox.outcome import Outcome, RowSnapshot
from bot.services.intake import submit_lead
from bot.storage.models import Lead
from bot.storage.uow import UnitOfWork

_EMAILS = count()


@dataclass(frozen=True)
class Figures:
    batch: int
    outcomes: int
    cpu_per_outcome: float  # seconds
    statements_per_batch: float
    recorded: int  # leads whose card ts was stored


async def run_db(kind: str, *, outcomes: int, batches: Sequence[int]) -> list[Figures]:
    async with bench_database(kind) as url:
        fake = make_fake()
        await fake.start()
        handoff = card_app(url, fake)
        try:
            team = await handoff.default_team_id()
            assert team is not None
            return [await _measure(handoff, team, outcomes, batch) for batch in batches]
        finally:
            await handoff.close()
            await fake.stop()


async def _measure(handoff: Handoff, team: str, outcomes: int, batch: int) -> Figures:
    lead_ids = []
    async with handoff.open_context(team) as ctx:
        for _ in range(outcomes):
            n = next(_EMAILS)
            data = {"email": f"rec{n}@example.com", "name": f"Rec {n}", "company": "Acme"}
            lead_ids.append((await submit_lead(ctx, parse_lead(data), origin="api")).lead.id)
    sender = handoff.sender
    async with UnitOfWork(sender.session_factory) as uow:
        rows = await uow.outbox.claim_due(
            now=sender.clock.now(), instance=sender.instance_id, lease=timedelta(minutes=10), limit=outcomes
        )
        snapshots = [RowSnapshot.of(row) for row in rows]
    assert len(snapshots) == outcomes, f"claimed {len(snapshots)} card rows of {outcomes}"
    statements = 0

    def counted(*_: object) -> None:
        nonlocal statements
        statements += 1

    engine = handoff.engine.sync_engine
    event.listen(engine, "before_cursor_execute", counted)
    freeze_startup_heap()  # as `handoff run` does: full collections no longer walk the start-up heap
    began = time.thread_time()
    try:
        for start in range(0, len(snapshots), batch):
            part = snapshots[start : start + batch]
            await sender.writer.write([(snap, Outcome.sent(f"{snap.id}.000100", SALES)) for snap in part])
    finally:
        cpu = time.thread_time() - began
        event.remove(engine, "before_cursor_execute", counted)
    async with handoff.uow() as uow:
        recorded = await uow.session.scalar(
            select(func.count()).where(Lead.id.in_(lead_ids), Lead.message_ts.is_not(None))
        )
    return Figures(
        batch=batch,
        outcomes=len(snapshots),
        cpu_per_outcome=cpu / len(snapshots),
        statements_per_batch=statements / -(-len(snapshots) // batch),
        recorded=int(recorded or 0),
    )


def rows_for(kind: str, figures: Sequence[Figures]) -> list[Row]:
    return [
        Row(
            "recording",
            kind,
            f"card outcomes recorded in batches of {f.batch}",
            f"{f.cpu_per_outcome * 1e6:,.0f} µs CPU per outcome, {f.statements_per_batch:.1f} statements "
            f"per batch; {f.recorded} of {f.outcomes} leads have their card's ts",
            "every lead has its card's ts",
            f.recorded == f.outcomes,
        )
        for f in figures
    ]


async def run(dbs: Sequence[str], *, outcomes: int, batches: Sequence[int]) -> list[Row]:
    kinds, notes = await databases(dbs)
    for note in notes:
        print(note)
    rows: list[Row] = []
    for kind in kinds:
        rows += rows_for(kind, await run_db(kind, outcomes=outcomes, batches=batches))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--outcomes", type=int, default=500)
    parser.add_argument("--batches", default="1,10,50")
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    print(table(asyncio.run(run(args.db.split(","), outcomes=args.outcomes, batches=batches))))


if __name__ == "__main__":
    main()
