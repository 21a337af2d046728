"""How long `/targets` and App Home take to build at 10k, 100k and 1M leads, on SQLite and PostgreSQL.

Not a test: it builds its own database, fills it with bench/synth.py and times the real service
and Block Kit code in-process (HTTP and Slack are not in the figures). Baseline: a `SELECT 1`
round trip on the same engine, so the numbers can be read against the database's own latency.

    python -m bench.reports --db sqlite --sizes 10000 100000 1000000
    python -m bench.reports --db postgres --pg-url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.synth import REPS, Synth, insert
from bot.config import load_settings
from bot.services.home import QualityCache, build_home
from bot.services.targets import build_scoreboard
from bot.slack.blocks.home import home_view
from bot.slack.blocks.targets import scoreboard_blocks
from bot.storage.db import make_engine, make_session_factory
from bot.storage.migrate import migrate
from bot.storage.models import Member, Target
from bot.storage.uow import UnitOfWork

TEAM = "T0BENCH"
ADMIN = "U0BADMIN"


async def timed(fn: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, float]:
    await fn()  # warm-up: first-use costs (statement compilation, page cache) are not the steady state
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


async def seed_targets(factory: Any, now: datetime) -> None:
    month = date(now.year, now.month, 1)
    quarter = date(now.year, (now.month - 1) // 3 * 3 + 1, 1)
    async with factory() as session, session.begin():
        for metric, kind, start, segment, value in (
            ("leads_delivered", "month", month, "", 90_000),
            ("leads_accepted", "month", month, "", 40_000),
            ("acceptance_rate", "month", month, "", 0.6),
            ("median_time_to_claim", "month", month, "", 1800),
            ("meetings_booked", "month", month, "", 15_000),
            ("deals_won", "quarter", quarter, "", 4_000),
            ("revenue_won", "quarter", quarter, "", 50_000_000),
            ("leads_delivered", "month", month, "enterprise", 15_000),
            ("leads_accepted", "month", month, "channel:C0BSALES1", 12_000),
        ):
            session.add(
                Target(team_id=TEAM, metric=metric, period_kind=kind, period_start=start, segment=segment,
                       value=value, set_by=ADMIN, created_at=now, updated_at=now)
            )  # fmt: skip
        session.add(Member(team_id=TEAM, user_id=REPS[0], side="sales", away=False, updated_at=now))


async def run(db: str, url: str, sizes: list[int], runs: int) -> list[dict[str, Any]]:
    settings = load_settings(database_url=url, admins=ADMIN, timezone="Europe/Paris")
    engine = make_engine(settings.database_url)
    await migrate(engine)
    factory = make_session_factory(engine)
    now = datetime.now(UTC)
    await seed_targets(factory, now)
    results = []
    have = 0
    for size in sizes:
        started = time.perf_counter()
        # grow the same database: each step adds leads with its own seed (dedupe keys differ)
        have += await insert(engine, Synth(team_id=TEAM, now=now, seed=size), size - have)
        fill = time.perf_counter() - started

        async def baseline() -> None:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        async def targets() -> None:
            async with UnitOfWork(factory) as uow:
                board = await build_scoreboard(uow, TEAM, now, settings.tz)
            [b.to_dict() for b in scoreboard_blocks(board)]

        cache = QualityCache()

        def home(user: str, quality_cache: QualityCache | None = None) -> Callable[[], Awaitable[None]]:
            async def build() -> None:
                async with UnitOfWork(factory) as uow:
                    data = await build_home(
                        uow, settings, team_id=TEAM, user_id=user, now=now, quality_cache=quality_cache
                    )
                home_view(data).to_dict()

            return build

        row = {"db": db, "leads": have, "fill_s": fill}
        for name, fn in (("baseline", baseline), ("targets", targets), ("home_rep", home(REPS[0])),
                         ("home_full", home(ADMIN)), ("home_warm", home(ADMIN, cache))):  # fmt: skip
            row[name] = await timed(fn, runs)
        results.append(row)
        print(
            f"{db:8} {have:>9,} leads (+{fill:5.1f} s fill) | SELECT 1 {row['baseline'][0]:6.2f} ms | "
            f"/targets {row['targets'][0]:7.1f} ms (max {row['targets'][1]:7.1f}) | "
            f"Home rep {row['home_rep'][0]:7.1f} ms (max {row['home_rep'][1]:7.1f}) | "
            f"Home marketing+rep+targets cold {row['home_full'][0]:7.1f} ms (max {row['home_full'][1]:7.1f}), "
            f"quality cached {row['home_warm'][0]:7.1f} ms",
            flush=True,
        )
    await engine.dispose()
    return results


async def _main(args: argparse.Namespace) -> None:
    if args.db == "sqlite":
        await run("sqlite", f"sqlite:///{args.sqlite_file}", args.sizes, args.runs)
        return
    import asyncpg

    name = f"handoff_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(args.pg_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await run("postgres", args.pg_url.rsplit("/", 1)[0] + "/" + name, args.sizes, args.runs)
    finally:
        if not args.keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="time /targets and App Home at scale")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--dir", help="where to put the SQLite file (default: a temp dir)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()
    if args.db == "sqlite":
        folder = Path(args.dir or tempfile.mkdtemp(prefix="handoff-bench-"))
        folder.mkdir(parents=True, exist_ok=True)
        args.sqlite_file = folder / "bench.db"
        args.sqlite_file.unlink(missing_ok=True)
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
