"""SLA backlog (#23): with many open leads of which some thousands are due, how fast do the SLA
passes fire, how long does a 10,000-step backlog take to clear, what does a pass cost when nothing
is due, and how long does a claim wait meanwhile (a light request load: one claim every 50 ms)?

    python -m bench.sla [--db sqlite,postgresql] [--open 100000] [--due 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bench.common import ADMIN, SALES, Row, bench_database, databases, make_fake, table
from bot.app import build_app
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.outbox.pacing import Pacer
from bot.services import sla
from bot.services.claims import claim_lead
from bot.storage.models import Lead

NOON = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # a Monday; defaults: remind after 30 working min
OPEN, DUE = 100_000, 10_000


@dataclass
class SlaFigures:
    open_leads: int
    due: int
    first_look_s: float  # judging every open lead once (after the migration's backfill)
    idle_pass_ms: float  # a pass with nothing due
    clear_s: float  # the backlog of `due` steps, under the request load
    fired: int
    claim_ms: list[float]


async def _insert(handoff, team: str, created: list[datetime], start: int) -> None:
    rows = [
        {"team_id": team, "dedupe_key": f"b{start + i}", "email": f"b{start + i}@acme.com",
         "status": "new", "channel_id": SALES, "message_ts": f"1700000000.{start + i:06d}", "fields": {},
         "intake_channel": "api", "nurture": False, "created_at": at, "updated_at": at}
        for i, at in enumerate(created)
    ]  # fmt: skip
    for i in range(0, len(rows), 5000):
        async with handoff.uow() as uow:
            await uow.session.execute(insert(Lead), rows[i : i + 5000])


async def run_db(kind: str, *, open_leads: int, due: int) -> SlaFigures:
    fake = make_fake()
    await fake.start()
    try:
        async with bench_database(kind) as url:
            settings = load_settings(
                slack_bot_token=fake.bot_token, slack_signing_secret="s", slack_api_url=fake.base_url,
                database_url=url, sales_channel=SALES, admins=(ADMIN,), timezone="UTC",
            )  # fmt: skip
            clock = FrozenClock(NOON)
            handoff = build_app(settings, clock=clock, pacer=Pacer.unlimited(), with_scheduler=False)
            try:
                return await _measure(handoff, open_leads=open_leads, due=due, clock=clock)
            finally:
                await handoff.close()
    finally:
        await fake.stop()


async def _measure(handoff, *, open_leads: int, due: int, clock: FrozenClock) -> SlaFigures:
    team = await handoff.default_team_id()
    quiet = open_leads - due  # arrived 11:45-11:59: reminders due 12:15-12:29, not yet
    await _insert(handoff, team, [NOON - timedelta(seconds=60 + i % 840) for i in range(quiet)], 0)
    started = time.perf_counter()
    await sla.run_sla(handoff, team, NOON, budget=3600)
    first_look = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(20):
        await sla.sla_pass(handoff, team, NOON)
    idle_ms = (time.perf_counter() - started) / 20 * 1000
    # the backlog: `due` leads that waited 1-2 h (after an outage)
    await _insert(handoff, team, [NOON - timedelta(minutes=61 + i % 59) for i in range(due)], quiet)
    claim_ms: list[float] = []
    stop = asyncio.Event()

    async def requests() -> None:
        lead_id = 0
        while not stop.is_set():
            lead_id += 1
            t0 = time.perf_counter()
            async with handoff.open_context(team) as ctx:
                await claim_lead(ctx, lead_id, user_id=ADMIN)
            claim_ms.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(0.05)

    load = asyncio.create_task(requests())
    started = time.perf_counter()
    fired = 0
    while True:  # the scheduled job, run back to back while a backlog remains
        fired += await sla.run_sla(handoff, team, NOON)
        async with handoff.uow() as uow:
            if (await sla.backlog(uow, team, NOON)).due == 0:
                break
    clear = time.perf_counter() - started
    stop.set()
    await load
    return SlaFigures(open_leads, due, first_look, idle_ms, clear, fired, claim_ms)


def rows_for(kind: str, f: SlaFigures) -> list[Row]:
    ms = sorted(f.claim_ms) or [0.0]
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return [
        Row(
            bench="sla",
            db=kind,
            case=f"{f.due:,} due steps among {f.open_leads:,} open leads",
            figure=f"{f.fired:,} fired in {f.clear_s:.1f} s = {f.fired / f.clear_s:,.0f} steps/s; "
            f"claims meanwhile p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms",
            goal="all fired, within minutes; claims p99 < 500 ms",
            ok=f.fired == f.due and f.clear_s < 300 and p99 < 500,
        ),
        Row(
            bench="sla",
            db=kind,
            case=f"pass with nothing due, {f.open_leads:,} open leads",
            figure=f"{f.idle_pass_ms:.1f} ms per pass (first look at every open lead once: {f.first_look_s:.1f} s)",
            goal="independent of open leads",
        ),
    ]


async def run(dbs: list[str], *, open_leads: int = OPEN, due: int = DUE) -> list[Row]:
    kinds, notes = await databases(dbs)
    rows: list[Row] = []
    for kind in kinds:
        rows += rows_for(kind, await run_db(kind, open_leads=open_leads, due=due))
    rows += [Row(bench="sla", db="postgresql", case="skipped", figure=n) for n in notes]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--open", type=int, default=OPEN)
    parser.add_argument("--due", type=int, default=DUE)
    args = parser.parse_args()
    print(table(asyncio.run(run(args.db.split(","), open_leads=args.open, due=args.due))))


if __name__ == "__main__":
    main()
