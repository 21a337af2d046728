"""Every benchmark at small sizes, one table: `python -m bench` (about 3–5 minutes on 2 cores).

    python -m bench [--db sqlite,postgresql] [--full] [--profile DIR]

--full uses the sizes the goals are stated for (10,000 leads; 500/3,000 requests per ack case).
PostgreSQL is used when something answers at BENCH_DATABASE_URL / TEST_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/postgres); each run creates and drops its own database.
Memory is read from the bot process of benchmark 1. The reports benchmark (bench/reports.py, from
the targets feature) is included when present: `async small(dbs) -> list[Row]` if it offers one,
else `python -m bench.reports` with BENCH_SMALL=1, its output printed after the table.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sys
import time
from pathlib import Path

from bench import ack, backlog, intake, jobs, memory, recording, routing, sla, speed
from bench.common import ROOT, Row, databases, machine, table


async def run(dbs: list[str], *, full: bool, profile: Path | None) -> tuple[list[Row], str]:
    kinds, notes = await databases(dbs)
    c1, c20 = (500, 3000) if full else (100, 500)
    leads = intake.FULL if full else intake.SMALL
    rows: list[Row] = []
    mem_rows: list[Row] = []
    for kind in kinds:
        ack_rows, mem = await ack.run_db(kind, c1=c1, c20=c20, profile=profile)
        rows += ack_rows
        mem_rows += memory.rows_for(kind, mem["idle_mb"], mem["peak_mb"], 6 * (c1 + c20))
    for kind in kinds:
        figures = await intake.run_db(kind, leads=leads, batch=100, rate=20, burst=5, channels=10)
        rows += intake.rows_for(kind, figures, rate=20, burst=5, channels=10)
    for kind in kinds:
        rows += speed.rows_for(kind, await speed.run_db(kind), hot=20)
        rows += speed.burst_rows_for(kind, await speed.run_burst_db(kind), hot=20, over=60)
    for kind in kinds:
        open_leads = sla.OPEN if full else sla.OPEN // 5
        rows += sla.rows_for(kind, await sla.run_db(kind, open_leads=open_leads, due=sla.DUE))
    rows += await routing.small(kinds, leads=3000 if full else 1000)
    for kind in kinds:
        figures = await recording.run_db(kind, outcomes=500 if full else 100, batches=[1, 10])
        rows += recording.rows_for(kind, figures)
    for kind in kinds:
        figures = await backlog.run_db(kind, backlog=10_000 if full else 2_000, leads=300 if full else 100)
        rows += backlog.rows_for(kind, figures)
    for kind in kinds:
        for size in jobs.SIZES if full else jobs.SIZES[:2]:
            rows += jobs.rows_for(kind, size, await jobs.run_db(kind, size))
    rows += mem_rows
    extra = ""
    if importlib.util.find_spec("bench.reports") is not None:
        from bench import reports  # type: ignore[attr-defined]

        if hasattr(reports, "small"):
            rows += await reports.small(kinds)
        else:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.reports",
                cwd=ROOT,
                env={**os.environ, "BENCH_SMALL": "1", "PYTHONPATH": str(ROOT)},
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await proc.communicate()
            extra = out.decode() + (err.decode() if proc.returncode else "")
    rows += [Row(bench="all", db="postgresql", case="skipped", figure=n) for n in notes]
    return rows, extra


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--full", action="store_true", help="the sizes the goals are stated for")
    parser.add_argument("--profile", type=Path, help="also sample the bot with py-spy into this directory")
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    rows, extra = asyncio.run(run(args.db.split(","), full=args.full, profile=args.profile))
    print(f"Machine: {machine()}; load average before the run: {os.getloadavg()[0]:.1f}")
    print()
    print(table(rows))
    if extra:
        print()
        print(extra.rstrip())
    print()
    print(
        f"{sum(1 for r in rows if r.ok)} of {sum(1 for r in rows if r.ok is not None)} goals met "
        f"in {time.monotonic() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
