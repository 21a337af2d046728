"""Benchmark 4 — memory: peak resident set (VmHWM) of `python -m bot run`, idle and under benchmark 1.

The bot runs as a real process against the fake Slack; /proc/<pid>/status VmHWM is read once it is
up and idle, then after the ack workload (commands and Claim clicks at concurrency 1 and 20).

    python -m bench.memory [--db sqlite] [--c1 100] [--c20 500]
"""

from __future__ import annotations

import argparse
import asyncio

from bench import ack
from bench.common import Row, databases, table

GOAL_MB = 150.0


def rows_for(kind: str, idle_mb: float, peak_mb: float, requests: int) -> list[Row]:
    return [
        Row(
            bench="memory",
            db=kind,
            case="bot idle (VmHWM)",
            figure=f"{idle_mb:.0f} MB",
            goal="< 150 MB",
            ok=idle_mb < GOAL_MB,
        ),
        Row(
            bench="memory",
            db=kind,
            case=f"bot after benchmark 1 ({requests:,} requests, VmHWM)",
            figure=f"{peak_mb:.0f} MB",
            goal="< 150 MB",
            ok=peak_mb < GOAL_MB,
        ),
    ]


async def run(dbs: list[str], *, c1: int, c20: int) -> list[Row]:
    kinds, notes = await databases(dbs)
    rows: list[Row] = []
    for kind in kinds:
        _, mem = await ack.run_db(kind, c1=c1, c20=c20)
        rows += rows_for(kind, mem["idle_mb"], mem["peak_mb"], 4 * (c1 + c20))
    rows += [Row(bench="memory", db="postgresql", case="skipped", figure=n) for n in notes]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--c1", type=int, default=100)
    parser.add_argument("--c20", type=int, default=500)
    args = parser.parse_args()
    print(table(asyncio.run(run(args.db.split(","), c1=args.c1, c20=args.c20))))


if __name__ == "__main__":
    main()
