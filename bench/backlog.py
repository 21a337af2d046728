"""Benchmark: new leads for a channel whose queue of Slack writes is backed up.

For each database: queue `--backlog` messages for #sales (a bulk import's worth), start the outbox
sender at Slack's pace (1 message a second per channel) and let it fill its queue for #sales; then
submit `--leads` single leads routed to #sales, one every 10 ms, through the intake service.
Reported: the sender's claiming passes while they arrive (a pass walks the backlog in
ix_outbox_rank), their CPU, and the process's CPU per lead.

A lead for a full channel's queue can only wait its turn, so its commit wakes no pass (bot/outbox/
sender.py `wake`): passes come from the paced sends (one a second) and the idle poll, not from
every commit (before: up to one per `pass_gap`, 20 a second).

    python -m bench.backlog [--db sqlite,postgresql] [--backlog 10000] [--leads 300]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from bench.common import SALES, Row, bench_database, card_app, databases, make_fake, table
from bot.domain.lead_input import parse_lead
from bot.domain.outbox import Lane
from bot.services.intake import submit_lead
from bot.storage.models import Lead
from bot.storage.repositories import OutboxRepo

PASSES_GOAL = 3.0  # a second: the paced sends' and the idle poll's, with room for a slow machine


@dataclass(frozen=True)
class Figures:
    backlog: int
    leads: int
    seconds: float
    passes: int
    cpu_per_pass: float  # seconds, the claiming query's
    cpu_per_lead: float  # seconds, the whole process
    stored: int


async def run_db(kind: str, *, backlog: int, leads: int) -> Figures:
    async with bench_database(kind) as url:
        fake = make_fake()
        await fake.start()
        handoff = card_app(url, fake, paced=True)  # the sender paced as in production
        stop = asyncio.Event()
        sender = handoff.sender
        task: asyncio.Task[None] | None = None
        claim_due = OutboxRepo.claim_due
        try:
            team = await handoff.default_team_id()
            assert team is not None
            async with handoff.open_context(team) as ctx, ctx.notifier.bulk():
                for i in range(backlog):
                    await ctx.notifier.post(team, SALES, f"backlog {i}", lane=Lane.BULK)
            passes, spent = 0, 0.0

            async def counted(repo: OutboxRepo, **options: Any) -> Any:
                nonlocal passes, spent
                passes += 1
                began = time.thread_time()
                try:
                    return await claim_due(repo, **options)
                finally:
                    spent += time.thread_time() - began

            OutboxRepo.claim_due = counted  # type: ignore[method-assign,assignment]
            task = asyncio.create_task(sender.run(stop))
            while len(sender._queues.get(SALES, ())) < sender._channel_cap():  # noqa: ASYNC110 - polling the sender
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # the claims that filled it are over
            passes, spent = 0, 0.0
            cpu, began = time.process_time(), time.perf_counter()
            for i in range(leads):
                data = {"email": f"backlog{i}@example.com", "name": f"Backlog {i}", "company": "Acme"}
                async with handoff.open_context(team) as ctx:
                    await submit_lead(ctx, parse_lead(data), origin="api")
                await asyncio.sleep(0.01)
            seconds = time.perf_counter() - began
            cpu = time.process_time() - cpu
            async with handoff.uow() as uow:
                stored = int(
                    await uow.session.scalar(select(func.count()).where(Lead.email.like("backlog%"))) or 0
                )
        finally:
            OutboxRepo.claim_due = claim_due  # type: ignore[method-assign]
            stop.set()
            if task is not None:
                await task
            await handoff.close()
            await fake.stop()
    return Figures(
        backlog=backlog,
        leads=leads,
        seconds=seconds,
        passes=passes,
        cpu_per_pass=spent / passes if passes else 0.0,
        cpu_per_lead=cpu / leads,
        stored=stored,
    )


def rows_for(kind: str, f: Figures) -> list[Row]:
    rate = f.passes / f.seconds
    return [
        Row(
            "backlog",
            kind,
            f"{f.leads} single leads for #sales while {f.backlog:,} rows wait for it",
            f"{f.passes} claiming passes in {f.seconds:.1f} s ({rate:.1f} a second, "
            f"{f.cpu_per_pass * 1e3:.2f} ms CPU each); {f.cpu_per_lead * 1e3:.2f} ms CPU per lead; "
            f"{f.stored} of {f.leads} stored",
            f"≤ {PASSES_GOAL:.0f} passes a second, every lead stored",
            rate <= PASSES_GOAL and f.stored == f.leads,
        )
    ]


async def run(dbs: Sequence[str], *, backlog: int, leads: int) -> list[Row]:
    kinds, notes = await databases(dbs)
    for note in notes:
        print(note)
    rows: list[Row] = []
    for kind in kinds:
        rows += rows_for(kind, await run_db(kind, backlog=backlog, leads=leads))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--leads", type=int, default=300)
    args = parser.parse_args()
    print(table(asyncio.run(run(args.db.split(","), backlog=args.backlog, leads=args.leads))))


if __name__ == "__main__":
    main()
