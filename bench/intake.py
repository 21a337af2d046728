"""Benchmark 2 — intake: leads through the API, then the outbox posting them under Slack's rate limit.

For each database, against `python -m bot run` and the fake Slack:
1. POST N leads to /api/leads in batches (default 10,000 in batches of 100, 4 clients at a time):
   leads/s persisted, counted in the database afterwards. If the lead API is not in this build yet
   (501), the leads go through the intake service in-process instead, and the row says so.
2. K routing rules spread the leads over K channels; the fake Slack limits chat.postMessage to R a
   second per channel (bursts of B) and the bot's pacer is set to match (HANDOFF_CHANNEL_RATE=R,
   HANDOFF_CHANNEL_BURST=B). Reported: achieved posting rate as a fraction of the ceiling
   K × (B + R × T) over the T seconds from first to last card, cards lost (leads without exactly one
   card), and how many calls the fake answered 429.

    python -m bench.intake [--db sqlite,postgresql] [--leads 10000] [--batch 100] [--rate 20]
                           [--burst 5] [--channels 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
from sqlalchemy import func, select

from bench.common import (
    INTAKE_TOKEN,
    SIGNING_SECRET,
    Row,
    bench_database,
    databases,
    make_fake,
    start_bot,
    table,
)
from bot.app import build_app
from bot.config import load_settings
from bot.domain.lead_input import parse_lead
from bot.sandbox import FakeSlack
from bot.services.intake import submit_lead
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Lead, Outbox, RoutingRule
from bot.storage.uow import UnitOfWork

LEADS_GOAL = 2000.0
RATE_GOAL = 0.90


@dataclass
class IntakeFigures:
    via: str
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
    """Send every batch; returns (seconds, batches not answered 2xx). 501 raises NotImplementedError."""
    batches = [leads[i : i + batch] for i in range(0, len(leads), batch)]
    queue = iter(batches)
    errors = 0
    headers = {"Authorization": f"Bearer {INTAKE_TOKEN}"}

    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"leads": []}, headers=headers) as resp:
            if resp.status in (404, 405, 501):
                raise NotImplementedError(f"POST /api/leads answers {resp.status}")

        async def client() -> None:
            nonlocal errors
            for chunk in queue:
                async with session.post(url, json={"leads": chunk}, headers=headers) as resp:
                    await resp.read()
                    if resp.status // 100 != 2:
                        errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return time.perf_counter() - start, errors


async def submit_in_process(
    database_url: str, fake: FakeSlack, leads: list[dict[str, object]], batch: int
) -> float:
    """The intake service without the HTTP edge (only while the lead API is not built)."""
    settings = load_settings(
        slack_bot_token=fake.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.base_url,
        database_url=database_url,
    )
    handoff = build_app(settings, with_scheduler=False)
    try:
        team = await handoff.default_team_id()
        assert team is not None
        start = time.perf_counter()
        for i in range(0, len(leads), batch):
            async with handoff.transaction(team) as ctx:
                for data in leads[i : i + batch]:
                    await submit_lead(ctx, parse_lead(data), origin="api")
        return time.perf_counter() - start
    finally:
        await handoff.close()


async def count(database_url: str) -> tuple[int, int]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            leads = await conn.scalar(select(func.count()).select_from(Lead))
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
            fake.rate_limit(rate, burst=burst)
            bot = await start_bot(
                url,
                fake,
                sales_channel=names[0],
                HANDOFF_CHANNEL_RATE=str(rate),
                HANDOFF_CHANNEL_BURST=str(burst),
                HANDOFF_DUPLICATE_WINDOW_DAYS="0",
            )
            try:
                try:
                    seconds, errors = await post_batches(bot.url + "/api/leads", payload, batch, clients)
                    via = f"POST /api/leads, batches of {batch}, {clients} clients"
                except NotImplementedError:
                    await bot.stop()
                    seconds = await submit_in_process(url, fake, payload, batch)
                    errors = 0
                    via = f"intake service in-process, {batch} per transaction (lead API not built yet)"
                    bot = await start_bot(
                        url,
                        fake,
                        sales_channel=names[0],
                        HANDOFF_CHANNEL_RATE=str(rate),
                        HANDOFF_CHANNEL_BURST=str(burst),
                    )
                stored, _ = await count(url)
                # the ceiling is Slack's; the deadline is generous so a slow sender shows as a low rate
                deadline = time.monotonic() + 2 * stored / (rate * channels) + 60
                while len(cards(fake, names)) < stored and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.25)  # the fake is polled: it has no "posted" event
            finally:
                await bot.stop()
            _, failed = await count(url)
        finally:
            await fake.stop()
    posts = [c.at for c in fake.calls if c.method == "chat.postMessage" and c.status == 200]
    posted = cards(fake, names)
    span = (max(posts) - min(posts)) if len(posts) > 1 else 0.0
    return IntakeFigures(
        via=via,
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
            + (f", {f.errors} batches failed)" if f.errors else ")"),
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
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0, help="messages/s per channel (fake and pacer)")
    parser.add_argument("--burst", type=int, default=5)
    parser.add_argument("--channels", type=int, default=10)
    args = parser.parse_args()
    rows = asyncio.run(
        run(
            args.db.split(","),
            leads=args.leads,
            batch=args.batch,
            rate=args.rate,
            burst=args.burst,
            channels=args.channels,
        )
    )
    print(table(rows))


if __name__ == "__main__":
    main()
