"""The benchmarks at a tiny size, so they cannot rot. No timing is asserted: only that each one runs
end to end against real processes and that the work it measures was really done."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bench import ack, intake, memory
from bench.common import table
from tests.conftest import pg_base_url

pytestmark = pytest.mark.slow
KIND = "postgresql" if pg_base_url() else "sqlite"


async def test_ack_and_memory_benchmarks_run_and_do_real_work() -> None:
    rows, mem = await ack.run_db(KIND, c1=3, c20=20)
    cases = {r.case: r for r in rows}
    [done] = [r for r in rows if r.case == "real work done"]
    assert done.ok, done.figure  # every click claimed its own lead
    claim_rows = [r for c, r in cases.items() if c.startswith("Claim click")]
    assert len(claim_rows) == 2 and all("failed" not in r.figure for r in claim_rows)
    assert all("ratio" in r.figure for r in claim_rows)
    # the raw-driver floor ran the same writes on leads of its own (counted apart in "real work done")
    writes = [r for c, r in cases.items() if c.startswith(("Claim click", "/lead <text>"))]
    assert len(writes) == 4 and all("raw-driver floor" in r.figure for r in writes)
    assert all("failed" not in r.figure.split("raw-driver floor")[1].split("·")[0] for r in writes)
    assert 10 < mem["idle_mb"] <= mem["peak_mb"]
    mem_rows = memory.rows_for(KIND, mem["idle_mb"], mem["peak_mb"], 46)
    assert "| memory |" in table(mem_rows)


async def test_intake_benchmark_delivers_every_lead_once() -> None:
    figures = await intake.run_db(KIND, leads=60, batch=20, rate=50, burst=5, channels=3)
    assert figures.stored == 60 and figures.errors == 0
    assert figures.posted == figures.distinct == 60
    assert figures.failed_rows == 0
    rows = intake.rows_for(KIND, figures, rate=50, burst=5, channels=3)
    assert len(rows) == 2 and "lost 0" in rows[1].figure


async def test_speed_benchmark_reaches_every_lead_once() -> None:
    from bench import speed

    figures = await speed.run_db(KIND, leads=30, hot=2, over=1)
    assert figures.leads == 30 and figures.hot_missing == 0 and len(figures.hot_latencies) == 2
    assert figures.lost == 0 and figures.duplicates == 0 and figures.top_level_for_import == 1
    rows = speed.rows_for(KIND, figures, hot=2)
    assert len(rows) == 2 and "lost 0, duplicates 0" in rows[1].figure


async def test_routing_benchmark_routes_through_the_real_code() -> None:
    from bench import routing

    assert routing.cpu_per_lead("least_loaded", 50) > 0
    cpu, wall = await routing.storage_per_lead(KIND, leads=20, batch=10)
    assert 0 < cpu and 0 < wall
    rows = routing.rows_for_cpu({"turn": 0.5})
    assert rows[0].ok and "200 rules, 100 reps" in rows[0].case


async def test_speed_burst_benchmark_reaches_every_lead_once() -> None:
    from bench import speed

    figures = await speed.run_burst_db(KIND, singles=30, hot=2, over=3)
    assert figures.singles == 30 and figures.hot_missing == 0 and len(figures.hot_latencies) == 2
    assert figures.lost == 0 and figures.duplicates == 0
    assert figures.top_level_for_burst <= 12  # the first ten (or so) cards, then one summary
    rows = speed.burst_rows_for(KIND, figures, hot=2, over=3)
    assert len(rows) == 1 and "lost 0, duplicates 0" in rows[0].figure


async def test_jobs_benchmark_fires_every_due_step_and_posts_the_digest(tmp_path: Path) -> None:
    from bench import jobs

    phases = await jobs.run_db(KIND, 300, stacks=tmp_path)
    assert (tmp_path / f"stalls-{KIND}-300.txt").exists()  # --stacks: what held the loop, if anything
    assert phases["due"].fired == 30  # 10% of the open leads were due, each fired once
    assert phases["baseline"].requests > 0 and phases["baseline"].failed == 0
    assert len(phases["idle_pass"].per_run_ms) == 40 and phases["digest"].per_run_ms
    assert phases["digest"].peak_mb > 10
    assert phases["rewind"].per_run_ms and phases["rewind"].rewound > 0  # all open leads but a lease
    rows = jobs.rows_for(KIND, 300, phases)
    assert len(rows) == 5 and "| jobs |" in table(rows)


def _hold_the_loop(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def test_stall_stacks_name_what_held_the_loop(tmp_path: Path) -> None:
    from bench import jobs

    probe = jobs.LoopProbe()
    probe.start()
    watch = jobs.StallStacks(probe)
    watch.start()
    try:
        await asyncio.sleep(0.02)
        probe.phase = "due"
        _hold_the_loop(0.15)
        await asyncio.sleep(0.02)
    finally:
        watch.stop()
        await probe.stop()
    watch.write(tmp_path / "stalls.txt")
    stalls = (tmp_path / "stalls.txt").read_text()
    assert stalls.startswith("1 × [due]") and "_hold_the_loop" in stalls, stalls


async def test_salesforce_benchmark_syncs_every_lead_once() -> None:
    from bench import salesforce

    figures = await salesforce.run_db(KIND, leads=4, fault_leads=4)
    assert figures.lost == 0 and figures.duplicated == 0
    assert figures.calls >= 4 * 2 * 3  # each lead's claim and accept reached Salesforce
    assert "lost 0, duplicated 0" in salesforce.rows_for(KIND, figures)[1].figure


async def test_recording_benchmark_stores_every_cards_ts() -> None:
    from bench import recording

    figures = await recording.run_db(KIND, outcomes=12, batches=[1, 5])
    assert [f.recorded for f in figures] == [12, 12]
    # a batch: its rows read in one query, their states in one UPDATE, then each lead's card ts
    assert [f.statements_per_batch for f in figures] == [3, 2 + 12 / 3]
    assert all(row.ok for row in recording.rows_for(KIND, figures))


async def test_backlog_benchmark_wakes_no_pass_per_lead_for_a_full_channel() -> None:
    from bench import backlog

    figures = await backlog.run_db(KIND, backlog=100, leads=30)
    assert figures.stored == 30
    # the 30 leads' commits (10 ms apart) woke no pass: only the paced sends' and the idle poll's
    assert figures.passes <= figures.seconds * 2 + 2, figures
    assert all(row.ok for row in backlog.rows_for(KIND, figures))
