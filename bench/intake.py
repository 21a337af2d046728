"""Benchmark 2 — intake: leads through the API, then the outbox posting them under Slack's rate limit.

For each database, against `python -m bot run` and the fake Slack:
1. POST N leads to /api/leads in batches of 100, 4 clients at a time (2,000 leads by default,
   10,000 with --full): leads/s persisted, counted in the database afterwards. Baseline in the same
   run: the same number of bare INSERTs of lead rows, one transaction per batch, straight from this
   process — the floor no intake path can beat on this machine (the API also routes, dedupes,
   writes an event and an outbox row per lead, and speaks HTTP).
2. K routing rules spread the leads over K channels; the fake Slack limits chat.postMessage to R a
   second per channel (bursts of B) and the bot's pacer is set to match (HANDOFF_CHANNEL_RATE=R,
   HANDOFF_CHANNEL_BURST=B). Reported: achieved posting rate as a fraction of the ceiling
   K × (B + R × T) over the T seconds from first to last card, cards lost (leads without exactly one
   card), and how many calls the fake answered 429.

    python -m bench.intake [--db sqlite,postgresql] [--full | --leads N] [--batch 100] [--rate 20]
                           [--burst 5] [--channels 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
from sqlalchemy import func, insert, select

from bench.common import (
    INTAKE_TOKEN,
    Row,
    bench_database,
    databases,
    make_fake,
    start_bot,
    table,
)
from bot.sandbox import FakeSlack
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Lead, Outbox, RoutingRule
from bot.storage.uow import UnitOfWork

LEADS_GOAL = 2000.0
RATE_GOAL = 0.90
SMALL, FULL = 2_000, 10_000
BASELINE_TEAM = "T0BASELINE"  # the bare INSERTs' rows, apart from the workspace's


@dataclass
class IntakeFigures:
    via: str
    baseline_seconds: float
    leads: int
    stored: int
    seconds: float
    errors: int
    posted: int
    distinct: int
    post_seconds: float
    rate_limited: int
    failed_rows: int
    ceiling: float

    @property
    def leads_per_s(self) -> float:
        return self.stored / self.seconds if self.seconds else 0.0

    @property
    def baseline_per_s(self) -> float:
        return self.leads / self.baseline_seconds if self.baseline_seconds else 0.0

    @property
    def fraction(self) -> float:
        return self.posted / self.ceiling if self.ceiling else 0.0


def lead(i: int, channels: int) -> dict[str, object]:
    return {
        "external_id": f"bench-{i}",
        "email": f"lead{i}@example{i % 97}.com",
        "name": f"Lead {i}",
        "company": f"Company {i % 500}",
        "source": "webinar",
        "campaign": "bench",
        "score": i % 100,
        "region": f"r{i % channels}",
    }


async def seed_rules(database_url: str, team_id: str, channels: list[str]) -> None:
    engine = make_engine(database_url)
    try:
        async with UnitOfWork(make_session_factory(engine)) as uow:
            for k, channel in enumerate(channels):
                await uow.rules.add(
                    RoutingRule(
                        team_id=team_id,
                        name=f"region r{k}",
                        priority=k,
                        regions=[f"r{k}"],
                        channel_id=channel,
                        created_at=datetime.now(UTC),
                    )
                )
    finally:
        await engine.dispose()


async def post_batches(
    url: str, leads: list[dict[str, object]], batch: int, clients: int
) -> tuple[float, int]:
    """Send every batch; returns (seconds, batches not answered 2xx)."""
    batches = [leads[i : i + batch] for i in range(0, len(leads), batch)]
    queue = iter(batches)
    errors = 0
    headers = {"Authorization": f"Bearer {INTAKE_TOKEN}"}

    first_error = ""

    async with aiohttp.ClientSession() as session:

        async def client() -> None:
            nonlocal errors, first_error
            for chunk in queue:
                async with session.post(url, json={"leads": chunk}, headers=headers) as resp:
                    body = await resp.text()
                    if resp.status // 100 != 2:
                        errors += 1
                        first_error = first_error or f"{resp.status}: {body[:300]}"

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        seconds = time.perf_counter() - start
    if errors == len(batches):  # a wrong token or a build without the API: say so, loudly
        raise RuntimeError(f"every POST /api/leads failed, the first with {first_error}")
    return seconds, errors


async def bare_inserts(database_url: str, leads: int, batch: int) -> float:
    """The baseline: `leads` lead rows by plain INSERT, one transaction per batch; seconds taken."""
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    try:
        start = time.perf_counter()
        for first in range(0, leads, batch):
            async with engine.begin() as conn:
                await conn.execute(
                    insert(Lead),
                    [
                        {
                            "team_id": BASELINE_TEAM,
                            "dedupe_key": f"base-{n}",
                            "email": f"base{n}@example.com",
                            "fields": {},
                            "created_at": now,
                            "updated_at": now,
                            "intake_channel": "api",
                            "status": "new",
                            "nurture": False,
                        }
                        for n in range(first, min(first + batch, leads))
                    ],
                )
        return time.perf_counter() - start
    finally:
        await engine.dispose()


async def count(database_url: str, team_id: str) -> tuple[int, int]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            leads = await conn.scalar(select(func.count()).where(Lead.team_id == team_id))
            failed = await conn.scalar(select(func.count()).where(Outbox.status == "failed"))
        return int(leads or 0), int(failed or 0)
    finally:
        await engine.dispose()


def cards(fake: FakeSlack, channels: list[str]) -> list[str]:
    return [m.ts for ch in channels for m in fake.messages(ch) if m.text.startswith("New lead")]


async def run_db(
    kind: str, *, leads: int, batch: int, rate: float, burst: int, channels: int, clients: int = 4
) -> IntakeFigures:
    names = [f"C0BENCH{k:02d}" for k in range(channels)]
    payload = [lead(i, channels) for i in range(leads)]
    async with bench_database(kind) as url:
        fake = make_fake(names)
        await fake.start()
        try:
            await seed_rules(url, fake.team_id, names)
            baseline = await bare_inserts(url, leads, batch)
            fake.rate_limit(rate, burst=burst)
            bot = await start_bot(
                url,
                fake,
                sales_channel=names[0],
                HANDOFF_CHANNEL_RATE=str(rate),
                HANDOFF_CHANNEL_BURST=str(burst),
                HANDOFF_DUPLICATE_WINDOW_DAYS="0",
                # card throughput: a card per lead, as before bursts counted as bulk (bench.speed)
                HANDOFF_BURST_WINDOW_SECONDS="0",
            )
            try:
                seconds, errors = await post_batches(bot.url + "/api/leads", payload, batch, clients)
                stored, _ = await count(url, fake.team_id)
                # the ceiling is Slack's; the deadline is generous so a slow sender shows as a low rate
                deadline = time.monotonic() + 2 * stored / (rate * channels) + 60
                while len(cards(fake, names)) < stored and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.25)  # the fake is polled: it has no "posted" event
            finally:
                await bot.stop()
            _, failed = await count(url, fake.team_id)
        finally:
            await fake.stop()
    posts = [c.at for c in fake.calls if c.method == "chat.postMessage" and c.status == 200]
    posted = cards(fake, names)
    span = (max(posts) - min(posts)) if len(posts) > 1 else 0.0
    return IntakeFigures(
        via=f"POST /api/leads, batches of {batch}, {clients} clients",
        baseline_seconds=baseline,
        leads=leads,
        stored=stored,
        seconds=seconds,
        errors=errors,
        posted=len(posted),
        distinct=len(set(posted)),
        post_seconds=span,
        rate_limited=fake.rate_limited_count,
        failed_rows=failed,
        ceiling=channels * (burst + rate * span),
    )


def rows_for(kind: str, f: IntakeFigures, *, rate: float, burst: int, channels: int) -> list[Row]:
    lost = f.stored - f.distinct
    return [
        Row(
            bench="intake",
            db=kind,
            case=f"{f.leads:,} leads via {f.via}",
            figure=f"{f.leads_per_s:,.0f} leads/s persisted ({f.stored:,} stored in {f.seconds:.1f} s"
            + (f", {f.errors} batches failed)" if f.errors else ")")
            + f" · bare INSERT {f.baseline_per_s:,.0f} rows/s · ratio "
            + (f"{f.leads_per_s / f.baseline_per_s:.2f}" if f.baseline_per_s else "-"),
            goal="≥ 2,000 leads/s",
            ok=f.leads_per_s >= LEADS_GOAL and f.stored == f.leads and f.errors == 0,
        ),
        Row(
            bench="intake",
            db=kind,
            case=f"outbox → {channels} channels at {rate:g}/s, burst {burst}",
            figure=f"{f.posted:,} cards in {f.post_seconds:.1f} s = {f.fraction:.0%} of ceiling "
            f"{channels * rate:g}/s; lost {lost}, 429s {f.rate_limited}, failed rows {f.failed_rows}",
            goal="≥ 90% of ceiling, 0 lost, no 429 storm",
            ok=f.fraction >= RATE_GOAL
            and lost == 0
            and f.distinct == f.posted
            and f.rate_limited <= channels,
        ),
    ]


async def run(dbs: list[str], *, leads: int, batch: int, rate: float, burst: int, channels: int) -> list[Row]:
    kinds, notes = await databases(dbs)
    rows: list[Row] = []
    for kind in kinds:
        figures = await run_db(kind, leads=leads, batch=batch, rate=rate, burst=burst, channels=channels)
        rows += rows_for(kind, figures, rate=rate, burst=burst, channels=channels)
    rows += [Row(bench="intake", db="postgresql", case="skipped", figure=n) for n in notes]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--full", action="store_true", help=f"{FULL:,} leads (the goal's size)")
    parser.add_argument("--leads", type=int, help=f"default {SMALL:,}, or {FULL:,} with --full")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0, help="messages/s per channel (fake and pacer)")
    parser.add_argument("--burst", type=int, default=5)
    parser.add_argument("--channels", type=int, default=10)
    args = parser.parse_args()
    rows = asyncio.run(
        run(
            args.db.split(","),
            leads=args.leads or (FULL if args.full else SMALL),
            batch=args.batch,
            rate=args.rate,
            burst=args.burst,
            channels=args.channels,
        )
    )
    print(table(rows))


if __name__ == "__main__":
    main()
