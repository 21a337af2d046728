"""Lead API throughput: leads persisted per second, POSTed in batches of 100 over HTTP.

    python -m bench.intake_throughput [--database-url postgresql://...] [--leads 5000] [--batch 100]

Serves the real app (fake Slack, outbox sender not running, so only intake is timed) and, as a
baseline in the same run, times the same number of bare INSERTs of lead rows in one transaction
per batch — the floor no intake path can beat on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
from sqlalchemy import insert

from bot.app import build_app
from bot.config import load_settings
from bot.sandbox import FakeSlack
from bot.storage.db import make_engine
from bot.storage.migrate import migrate
from bot.storage.models import Lead

TOKEN = "bench-token"


def _url(given: str | None) -> str:
    if given:
        return given
    return f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"


async def _fresh_pg(url: str) -> str:
    if not url.startswith("postgres"):
        return url
    import asyncpg

    name = f"handoff_bench_{int(time.time())}"
    admin = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return url.rsplit("/", 1)[0] + "/" + name


async def _drop_pg(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import asyncpg

    base, name = url.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)
    conn = await asyncpg.connect(base + "/postgres")
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def main(url: str, total: int, batch: int) -> None:
    url = await _fresh_pg(url)
    try:
        await _run(url, total, batch)
    finally:
        await _drop_pg(url)


async def _run(url: str, total: int, batch: int) -> None:
    fake = FakeSlack()
    fake.add_channel("C0SALES", name="sales", members=[])
    await fake.start()
    settings = load_settings(
        slack_bot_token=fake.bot_token,
        slack_signing_secret="s",
        slack_api_url=fake.base_url,
        database_url=url,
        intake_token=TOKEN,
        sales_channel="C0SALES",
        intake_rate_limit=100_000,
    )
    engine = make_engine(settings.database_url)
    await migrate(engine)
    handoff = build_app(settings, engine=engine, with_scheduler=False)
    runner = web.AppRunner(handoff.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    bodies = [
        json.dumps(
            {
                "leads": [
                    {
                        "email": f"lead{n}@example{n % 97}.com",
                        "external_id": f"bench-{n}",
                        "name": f"Lead {n}",
                        "company": "Example",
                        "source": "webinar",
                        "score": n % 101,
                        "region": "emea",
                    }
                    for n in range(start, min(start + batch, total))
                ]
            }
        )
        for start in range(0, total, batch)
    ]
    async with aiohttp.ClientSession() as session:
        await session.post(f"http://127.0.0.1:{port}/api/leads", data=bodies[0], headers=headers)  # warm-up
        started = time.perf_counter()
        created = 0
        for body in bodies[1:]:
            async with session.post(f"http://127.0.0.1:{port}/api/leads", data=body, headers=headers) as r:
                created += (await r.json())["created"]
        api_elapsed = time.perf_counter() - started

    now = datetime.now(UTC)
    started = time.perf_counter()
    for start in range(0, total - batch, batch):
        async with engine.begin() as conn:
            await conn.execute(
                insert(Lead),
                [
                    {
                        "team_id": "TBASE",
                        "dedupe_key": f"base-{n}",
                        "email": f"b{n}@x.com",
                        "fields": {},
                        "created_at": now,
                        "updated_at": now,
                        "intake_channel": "api",
                        "status": "new",
                        "nurture": False,
                    }
                    for n in range(start, start + batch)
                ],
            )
    base_elapsed = time.perf_counter() - started
    await runner.cleanup()
    await handoff.close()
    await engine.dispose()
    await fake.stop()
    db = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(
        f"{db}: API {created} leads in {api_elapsed:.2f}s = {created / api_elapsed:,.0f} leads/s (batches of {batch})"
    )
    print(f"{db}: baseline bare INSERT {total - batch} rows = {(total - batch) / base_elapsed:,.0f} rows/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(_url(args.database_url), args.leads, args.batch))
