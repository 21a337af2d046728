"""Synthetic leads for benchmarks and tests: N leads over the last ~12 months with realistic shapes
(more leads lately, weekday business hours, lognormal claim times, a funnel that narrows), bulk
inserted fast: executemany in one transaction on SQLite, COPY on PostgreSQL.

    python -m bench.synth --database-url sqlite:///bench.db --leads 100000 [--team T0BENCH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import load_settings
from bot.domain.events import EventKind
from bot.storage.db import make_engine
from bot.storage.migrate import migrate

SOURCES = {  # source: (weight, campaigns, acceptance odds)
    "webinar": (0.22, ["spring-webinar", "product-tour", "ai-summit"], 0.75),
    "paid-search": (0.25, ["brand", "competitor", "generic"], 0.55),
    "content": (0.18, ["ebook-roi", "benchmark-report", "newsletter"], 0.60),
    "referral": (0.08, ["partner-program", "customer-referral"], 0.85),
    "events": (0.12, ["saastr", "roadshow", "meetup"], 0.65),
    "social": (0.15, ["linkedin-ads", "retargeting"], 0.45),
}
SEGMENTS = (("smb", 0.5), ("mid-market", 0.32), ("enterprise", 0.18))
REGIONS = ("emea", "na", "apac", "latam")
REASONS = (
    ("not_icp", 0.35),
    ("no_budget", 0.25),
    ("wrong_contact", 0.15),
    ("duplicate", 0.1),
    ("bad_data", 0.1),
    ("other", 0.05),
)
REPS = tuple(f"U0BREP{i:02d}" for i in range(20))
CHANNELS = ("C0BSALES1", "C0BSALES2", "C0BSALES3")
LEAD_COLUMNS = (
    "team_id", "dedupe_key", "external_id", "email", "name", "company", "title", "source", "campaign",
    "score", "region", "segment", "fields", "intake_channel", "status", "owner_id", "channel_id",
    "quality", "reject_reason", "nurture", "won_amount", "currency", "created_at", "updated_at",
    "claimed_at", "verdict_at", "accepted_at", "rejected_at", "contacted_at", "meeting_at",
    "opportunity_at", "won_at", "lost_at", "stage_changed_at",
)  # fmt: skip
EVENT_COLUMNS = ("team_id", "lead_id", "kind", "actor_id", "origin", "data", "created_at")


def _pick(rng: random.Random, weighted: Any) -> Any:
    items = list(weighted)
    return rng.choices([i[0] for i in items], weights=[i[1] for i in items])[0]


@dataclass
class Synth:
    team_id: str
    now: datetime
    seed: int = 7
    days: int = 365

    def leads(self, n: int) -> Iterator[dict[str, Any]]:
        """n lead rows (dicts keyed by LEAD_COLUMNS); deterministic for a seed."""
        rng = random.Random(self.seed)
        span = self.days * 86400
        for i in range(n):
            # more leads lately: density grows linearly to twice the start's
            u = rng.random()
            age = span * (1 - (math.sqrt(1 + 3 * u) - 1))  # inverse CDF of a rising ramp
            created = self.now - timedelta(seconds=age)
            # nudge into business hours on weekdays, like real form fills
            created = created.replace(hour=rng.choice((8, 9, 10, 11, 13, 14, 15, 16, 17)))
            while created.weekday() >= 5:
                created -= timedelta(days=1)
            if created >= self.now:
                created = self.now - timedelta(minutes=rng.randint(5, 600))
            yield self._lead(rng, i, created)

    def _lead(self, rng: random.Random, i: int, created: datetime) -> dict[str, Any]:
        source = _pick(rng, ((s, w) for s, (w, _, _) in SOURCES.items()))
        _, campaigns, odds = SOURCES[source]
        row: dict[str, Any] = dict.fromkeys(LEAD_COLUMNS)
        row.update(
            team_id=self.team_id,
            dedupe_key=f"synth-{self.seed}-{i}",
            external_id=f"crm-{self.seed}-{i}",
            email=f"lead{i}@company{i % 5000}.example",
            name=f"Lead {i}",
            company=f"Company {i % 5000}",
            title=rng.choice(("CTO", "VP Sales", "Head of Ops", "Founder", "Engineer", None)),
            source=source,
            campaign=rng.choice(campaigns),
            score=rng.randint(10, 100),
            region=rng.choice(REGIONS),
            segment=_pick(rng, SEGMENTS),
            fields={},
            intake_channel=rng.choice(("api", "api", "api", "slack", "csv")),
            nurture=False,
            channel_id=rng.choice(CHANNELS),
            created_at=created,
            status="new",
        )
        last = created

        def step(minutes: float) -> datetime | None:
            nonlocal last
            when = last + timedelta(minutes=minutes)
            if when >= self.now:
                return None
            last = when
            return when

        if rng.random() < 0.04:
            row["status"] = "returned"
            row["updated_at"] = step(rng.uniform(5, 240)) or created
            return row
        # claim: lognormal around 25 minutes, a long tail of hours
        claimed = step(rng.lognormvariate(math.log(25), 1.1))
        if claimed is None:
            row["updated_at"] = created
            return row
        row.update(status="claimed", claimed_at=claimed, owner_id=rng.choice(REPS))
        verdict = step(rng.lognormvariate(math.log(180), 1.0)) if rng.random() < 0.93 else None
        if verdict is None:
            row["updated_at"] = last
            return row
        row["verdict_at"] = verdict
        if rng.random() >= odds:
            reason = _pick(rng, REASONS)
            row.update(
                status="rejected", rejected_at=verdict, reject_reason=reason, quality=rng.randint(1, 3)
            )
            row["updated_at"] = last
            return row
        row.update(status="accepted", accepted_at=verdict, quality=rng.randint(3, 5))
        for status, column, chance, minutes in (
            ("contacted", "contacted_at", 0.85, 60 * 24),
            ("meeting_booked", "meeting_at", 0.55, 60 * 24 * 5),
            ("opportunity", "opportunity_at", 0.6, 60 * 24 * 10),
        ):
            if rng.random() >= chance:
                break
            when = step(rng.uniform(0.2, 2.0) * minutes)
            if when is None:
                break
            row.update(status=status, stage_changed_at=when)
            row[column] = when
        if row["status"] == "opportunity" and rng.random() < 0.8:
            closed = step(rng.uniform(7, 45) * 60 * 24)
            if closed is not None:
                if rng.random() < 0.45:
                    amount = Decimal(round(rng.lognormvariate(math.log(12000), 0.8), 2)).quantize(
                        Decimal("0.01")
                    )
                    row.update(status="won", won_at=closed, won_amount=amount, currency="USD")
                else:
                    row.update(status="lost", lost_at=closed)
                row["stage_changed_at"] = closed
        row["updated_at"] = last
        return row

    def breach_events(
        self, leads: list[tuple[int, dict[str, Any]]], rng: random.Random
    ) -> Iterator[dict[str, Any]]:
        """About one lead in twelve breached an SLA (reminder, verdict or stage nudge)."""
        for lead_id, row in leads:
            if rng.random() >= 1 / 12:
                continue
            kind = rng.choice(
                (EventKind.SLA_REMINDER, EventKind.SLA_VERDICT_NUDGE, EventKind.SLA_STAGE_NUDGE)
            )
            when = row["created_at"] + timedelta(minutes=rng.randint(30, 3000))
            if when < self.now:
                yield {"team_id": self.team_id, "lead_id": lead_id, "kind": kind.value, "actor_id": None,
                       "origin": "scheduler", "data": {}, "created_at": when}  # fmt: skip


# -- bulk insert -------------------------------------------------------------------------------


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # SQLAlchemy's SQLite DATETIME storage format (UTC, no offset), so comparisons line up
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _checkpoint(path: str) -> None:
    import sqlite3

    with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def insert(engine: AsyncEngine, synth: Synth, n: int, *, batch: int = 20_000) -> int:
    """Insert n synthetic leads (and their SLA breach events); returns how many leads went in."""
    rng = random.Random(synth.seed + 1)
    is_pg = engine.dialect.name == "postgresql"
    async with engine.begin() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        buffer: list[dict[str, Any]] = []
        done = 0

        async def flush() -> None:
            nonlocal done
            if not buffer:
                return
            if is_pg:
                first = await driver.fetchval("SELECT nextval(pg_get_serial_sequence('lead', 'id'))")
                await driver.execute(
                    "SELECT setval(pg_get_serial_sequence('lead', 'id'), $1)", first + len(buffer) - 1
                )
                ids = list(range(first, first + len(buffer)))
                records = [
                    (lead_id, *(json.dumps(r[c]) if c == "fields" else r[c] for c in LEAD_COLUMNS))
                    for lead_id, r in zip(ids, buffer, strict=True)
                ]
                await driver.copy_records_to_table("lead", records=records, columns=["id", *LEAD_COLUMNS])
                events = list(synth.breach_events(list(zip(ids, buffer, strict=True)), rng))
                if events:
                    await driver.copy_records_to_table(
                        "lead_event",
                        records=[
                            tuple(json.dumps(e[c]) if c == "data" else e[c] for c in EVENT_COLUMNS)
                            for e in events
                        ],
                        columns=list(EVENT_COLUMNS),
                    )
            else:
                cursor = await driver.cursor()
                first = (
                    await (await driver.execute("SELECT coalesce(max(id), 0) + 1 FROM lead")).fetchone()
                )[0]
                ids = list(range(first, first + len(buffer)))
                marks = ", ".join("?" for _ in range(len(LEAD_COLUMNS) + 1))
                await cursor.executemany(
                    f"INSERT INTO lead (id, {', '.join(LEAD_COLUMNS)}) VALUES ({marks})",
                    [
                        (i, *(_sqlite_value(r[c]) for c in LEAD_COLUMNS))
                        for i, r in zip(ids, buffer, strict=True)
                    ],
                )
                events = list(synth.breach_events(list(zip(ids, buffer, strict=True)), rng))
                marks = ", ".join("?" for _ in EVENT_COLUMNS)
                await cursor.executemany(
                    f"INSERT INTO lead_event ({', '.join(EVENT_COLUMNS)}) VALUES ({marks})",
                    [tuple(_sqlite_value(e[c]) for c in EVENT_COLUMNS) for e in events],
                )
                await cursor.close()
            done += len(buffer)
            buffer.clear()

        for row in synth.leads(n):
            buffer.append(row)
            if len(buffer) >= batch:
                await flush()
        await flush()
    # fresh statistics (and on PostgreSQL a visibility map, so counts can be index-only scans)
    async with engine.connect() as conn:
        if is_pg:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM ANALYZE lead")
            await conn.exec_driver_sql("VACUUM ANALYZE lead_event")
        else:
            await conn.exec_driver_sql("ANALYZE")
            await conn.commit()
    if not is_pg and engine.url.database:
        # fold the bulk load's WAL into the database file: reads through a huge WAL are slow
        await asyncio.to_thread(_checkpoint, engine.url.database)
    return done


async def _main(args: argparse.Namespace) -> None:
    settings = load_settings(database_url=args.database_url)
    engine = make_engine(settings.database_url)
    await migrate(engine)
    started = time.perf_counter()
    n = await insert(engine, Synth(team_id=args.team, now=datetime.now(UTC), seed=args.seed), args.leads)
    print(f"inserted {n} leads in {time.perf_counter() - started:.1f} s")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--team", default="T0BENCH")
    parser.add_argument("--seed", type=int, default=7)
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
