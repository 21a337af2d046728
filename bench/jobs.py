"""Jobs under load (#22): do the scheduled jobs hold the event loop while people click?

With 1k / 10k / 100k open leads (90% of them on time, then 10% more that are overdue) and a light steady load (`/handoff help` and Claim clicks, 5
concurrent clients, each at most one request per 40 ms), measured in one process that serves
Handoff over HTTP (the load generator is its own process, as in bench.ack):
  * baseline: the load alone;
  * SLA passes with nothing due, one every 100 ms: time per pass;
  * SLA with 10% of the open leads due (reminders after an outage): time per pass until the
    backlog is worked off;
  * the weekly digest (numbers, chart, queued message);
  * the SLA policy's rewind: a threshold changes, so the next pass first brings every open lead's
    check time back to now (all of them are judged again), then leases as usual;
and for each: the longest event-loop stall (a probe that sleeps 5 ms and records how late it
wakes; the goal is judged on the part of it the loop's thread spent on a CPU — our code holding the
loop — since on a shared 2-core machine the OS also leaves a runnable process waiting), request p99 and max, and for the digest the process's peak resident set from just before
it (VmHWM reset through /proc/self/clear_refs). The outbox sender is not running (its work is not
a job; the reminders it would send stay queued), the fake Slack lives in the same process.

    python -m bench.jobs [--db sqlite,postgresql] [--sizes 1000,10000,100000] [--stacks DIR]

Each size runs in a fresh child process (`--child`) with a database of its own, so memory and
caches of one run do not carry into the next.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import threading
import time
import traceback
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import insert

from bench.common import (
    ADMIN,
    MARKETING,
    REPS,
    ROOT,
    SALES,
    SIGNING_SECRET,
    LoadResult,
    RecordingDriver,
    Row,
    Signed,
    _clean_env,
    bench_database,
    databases,
    free_port,
    make_fake,
    run_load,
    table,
)
from bot.ids import ActionId

NOON = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # a Monday; defaults: remind after 30 working min
SIZES = (1_000, 10_000, 100_000)
CONCURRENCY, PACE_MS = 5, 40.0
STALL_GOAL_MS, IDLE_PASS_GOAL_MS, P99_FACTOR_GOAL, PEAK_GOAL_MB = 50.0, 20.0, 2.0, 150.0


@dataclass
class Phase:
    """What the load and the loop saw while one job ran."""

    name: str
    seconds: float = 0.0
    runs: int = 0  # passes, or digests
    per_run_ms: list[float] = field(default_factory=list)
    max_stall_ms: float = 0.0  # the probe's longest late wake-up (wall clock)
    stalls_over_50: int = 0
    max_held_ms: float = 0.0  # ... of which the loop's thread was on a CPU (our code, not the OS)
    held_over_50: int = 0
    max_gc_ms: float = 0.0  # the longest garbage collection (they stop everything)
    full_gcs: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    requests: int = 0
    failed: int = 0
    fired: int = 0
    peak_mb: float = 0.0
    rss_before_mb: float = 0.0
    rewound: int = 0  # leads due a look after the rewind (all the open ones but a pass's lease)


class BenchClock:
    """NOON, moving on in real time from when the run started; pauses really wait."""

    def __init__(self, start: datetime) -> None:
        self._start, self._t0 = start, time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)

    async def pause(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


# ----------------------------------------------------------------------------------- the probe


class LoopProbe:
    """Sleeps `interval` again and again and records how late it wakes: the loop's stalls. Also
    times the garbage collector's runs (gc.callbacks), which stop the loop too."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self.held: list[float] = []
        self.gcs: list[tuple[int, float]] = []
        self._gc_started = 0.0
        self._task: asyncio.Task[None] | None = None
        self.beat = time.perf_counter()  # its last wake-up (StallStacks watches it)
        self.phase = "setup"

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gcs.append((int(info["generation"]), (time.perf_counter() - self._gc_started) * 1000))

    async def _run(self) -> None:
        while True:
            t0, cpu0 = time.perf_counter(), time.thread_time()
            await asyncio.sleep(self.interval)
            self.beat = time.perf_counter()
            lag = max(0.0, self.beat - t0 - self.interval) * 1000
            self.lags.append(lag)
            # how much of it the loop's own thread was running (our code holding the loop), not
            # waiting for a CPU on this shared machine
            self.held.append(min(lag, max(0.0, time.thread_time() - cpu0) * 1000))

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.create_task(self._run())

    def take(self) -> tuple[list[float], list[float], list[tuple[int, float]]]:
        lags, held, gcs, self.lags, self.held, self.gcs = self.lags, self.held, self.gcs, [], [], []
        return lags, held, gcs

    async def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


class StallStacks:
    """A thread that takes the loop thread's stack once per stall, `after` seconds into it (the
    probe has not woken for that long): what held the loop, per phase (`--stacks DIR`). It found
    the harness's own JSON encoding, and the SLA rewind's chunks (docs/benchmarks.md, round 5)."""

    def __init__(self, probe: LoopProbe, after: float = 0.040) -> None:
        self.probe, self.after = probe, after
        self.stacks: Counter[tuple[str, str]] = Counter()
        self._loop_thread = threading.get_ident()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stall-stacks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)

    def _watch(self) -> None:
        taken_for = 0.0
        while not self._stop.wait(0.004):
            beat = self.probe.beat
            if time.perf_counter() - beat > self.after and beat != taken_for:
                taken_for = beat
                frame = sys._current_frames().get(self._loop_thread)
                if frame is not None:
                    lines = traceback.format_list(traceback.extract_stack(frame)[-14:])
                    self.stacks[(self.probe.phase, "".join(reversed(lines)))] += 1

    def write(self, path: Path) -> None:
        out = [
            f"{n} × [{phase}], innermost frame first:\n{stack}"
            for (phase, stack), n in self.stacks.most_common()
        ]
        path.write_text("\n".join(out) or "no stall reached the threshold\n")


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux)
    except OSError:
        pass


# ----------------------------------------------------------------------------------- the child


async def _seed(handoff: Any, team: str, start: int, count: int, *, late: bool) -> None:
    """`count` new leads in #sales (ids from `start` + 1). On time: they arrived in the quarter hour
    before NOON and carry the check time an SLA pass writes after its first look (30 working
    minutes after arrival: nothing due at NOON). `late`: they arrived 1-2 h before NOON and were
    never looked at (their reminder is overdue)."""
    from bot.storage.models import Lead

    for first in range(start, start + count, 5000):
        rows = []
        for i in range(first, min(start + count, first + 5000)):
            at = NOON - (timedelta(minutes=61 + i % 59) if late else timedelta(seconds=60 + i % 840))
            row = {"team_id": team, "dedupe_key": f"b{i}", "email": f"b{i}@acme.com", "name": f"Lead {i}",
                   "status": "new", "channel_id": SALES, "message_ts": f"1700000000.{i:06d}", "fields": {},
                   "intake_channel": "api", "nurture": False, "created_at": at, "updated_at": at}  # fmt: skip
            if not late:
                row["sla_check_at"] = at + timedelta(minutes=30)
            rows.append(row)
        async with handoff.uow() as uow:
            await uow.session.execute(insert(Lead), rows)


def _claim_payload(driver: RecordingDriver, fake: Any, user: str, lead_id: int) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": driver._user(user),
        "api_app_id": fake.app_id,
        "token": driver.verification_token,
        "trigger_id": f"bench.{lead_id}",
        "team": driver._team(),
        "enterprise": None,
        "is_enterprise_install": False,
        "container": {"type": "message", "message_ts": f"1700000000.{lead_id:06d}", "channel_id": SALES},
        "channel": {"id": SALES, "name": "sales-0"},
        "response_url": fake.issue_response_url(channel_id=SALES, user_id=user),
        "actions": [
            {"action_id": ActionId.CLAIM.value, "block_id": "lead_actions", "value": str(lead_id),
             "type": "button", "action_ts": "1700000000.000001"}
        ],
    }  # fmt: skip


class Workload:
    """Signed `/handoff help` and Claim clicks, alternating; each click on a lead of its own."""

    def __init__(self, driver: RecordingDriver, fake: Any, first_lead: int, last_lead: int) -> None:
        self.driver, self.fake = driver, fake
        self.next_lead, self.last_lead = first_lead, last_lead

    async def take(self, n: int) -> list[Signed]:
        for i in range(n):
            if i and not i % 20:
                await asyncio.sleep(0)  # signing is CPU on the loop the measured jobs share
            user = REPS[i % len(REPS)]
            if i % 2 or self.next_lead > self.last_lead:
                await self.driver.command(user, "/handoff", "help", channel_id=SALES)
            else:
                await self.driver._send_payload(_claim_payload(self.driver, self.fake, user, self.next_lead))
                self.next_lead += 1
        return self.driver.take()


async def _under_load(
    url: str, work: Workload, probe: LoopProbe, phase: Phase, job: Any, *, seconds: float
) -> None:
    """Run `job()` (a coroutine function) while the load runs; the load keeps going in slices of
    about `seconds` until the job is done (at least one slice)."""
    per_slice = max(10, int(seconds * CONCURRENCY * 1000 / PACE_MS))
    await asyncio.sleep(0.05)  # the probe records any stall of the set-up before this phase starts
    probe.take()
    probe.phase = phase.name
    started = time.perf_counter()
    task = asyncio.create_task(job())
    results: list[LoadResult] = []
    while True:
        batch = await work.take(per_slice)
        [result] = await run_load(url, [(batch, CONCURRENCY)], pace_ms=PACE_MS)
        results.append(result)
        if task.done():
            break
    await task
    phase.seconds = time.perf_counter() - started
    lags, held, gcs = probe.take()
    probe.phase = "setup"
    phase.max_gc_ms = max((ms for _, ms in gcs), default=0.0)
    phase.full_gcs = sum(1 for generation, _ in gcs if generation == 2)
    phase.max_stall_ms = max(lags, default=0.0)
    phase.max_held_ms = max(held, default=0.0)
    phase.stalls_over_50 = sum(1 for lag in lags if lag > STALL_GOAL_MS)
    phase.held_over_50 = sum(1 for ms in held if ms > STALL_GOAL_MS)
    latencies = sorted(ms for r in results for ms in r.latencies_ms)
    phase.requests = len(latencies)
    phase.failed = sum(r.failed for r in results)
    if latencies:
        phase.p50_ms = latencies[len(latencies) // 2]
        phase.p99_ms = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
        phase.max_ms = latencies[-1]


async def child(kind: str, open_leads: int, stacks: Path | None = None) -> dict[str, Any]:
    from bot.app import build_app

    try:
        from bot.cli.run_cmd import freeze_startup_heap
    except ImportError:  # a build from before issue 22 (for before/after runs): it did not freeze

        def freeze_startup_heap() -> None:
            pass

    from bot.config import load_settings
    from bot.outbox.pacing import Pacer
    from bot.services import digest, sla

    due = open_leads // 10
    phases: dict[str, Phase] = {}
    fake = make_fake()
    await fake.start()
    try:
        async with bench_database(kind) as db_url:
            settings = load_settings(
                slack_bot_token=fake.bot_token, slack_signing_secret=SIGNING_SECRET,
                slack_api_url=fake.base_url, database_url=db_url, sales_channel=SALES,
                partnership_channel=MARKETING, admins=(ADMIN,), timezone="UTC",
            )  # fmt: skip
            # the requests' clock runs from NOON, as the seeded leads and the jobs do: with the real
            # date, Claims stamped months after the leads' arrival made the digest's speed-to-lead
            # tally count months of working days per claimed lead (no lead of a real week can)
            handoff = build_app(
                settings, pacer=Pacer.unlimited(), with_scheduler=False, clock=BenchClock(NOON)
            )
            runner = web.AppRunner(handoff.web, access_log=None)
            await runner.setup()
            port = free_port()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            url = f"http://127.0.0.1:{port}/slack/events"
            probe = LoopProbe()
            watch = StallStacks(probe) if stacks is not None else None
            try:
                team = await handoff.default_team_id()
                assert team is not None
                await _seed(handoff, team, 0, open_leads - due, late=False)
                work = Workload(RecordingDriver(fake), fake, 1, open_leads - due)
                await run_load(url, [(await work.take(40), CONCURRENCY)])  # warm: imports, caches
                freeze_startup_heap()  # as `handoff run` does once it is up
                probe.start()
                if watch is not None:
                    watch.start()

                async def idle() -> None:
                    await asyncio.sleep(4)

                phases["baseline"] = base = Phase("baseline")
                await _under_load(url, work, probe, base, idle, seconds=4)

                phases["idle_pass"] = idle_phase = Phase("idle_pass")

                async def idle_passes() -> None:
                    for _ in range(40):
                        t0 = time.perf_counter()
                        await sla.sla_pass(handoff, team, NOON)
                        idle_phase.per_run_ms.append((time.perf_counter() - t0) * 1000)
                        await asyncio.sleep(0.1)

                await _under_load(url, work, probe, idle_phase, idle_passes, seconds=4)

                # the backlog: 10% more leads whose reminders are overdue (after an outage)
                await _seed(handoff, team, open_leads - due, due, late=True)
                phases["due"] = due_phase = Phase("due")

                async def backlog() -> None:
                    deadline = time.perf_counter() + 300
                    while time.perf_counter() < deadline:
                        t0 = time.perf_counter()
                        done = await sla.sla_pass(handoff, team, NOON)
                        due_phase.per_run_ms.append((time.perf_counter() - t0) * 1000)
                        due_phase.fired += done.fired
                        if not done.more:
                            return
                        await asyncio.sleep(sla.PAUSE)  # as run_sla does between passes

                await _under_load(url, work, probe, due_phase, backlog, seconds=4)

                phases["digest"] = dig = Phase("digest")
                dig.rss_before_mb = _status_kb("VmRSS") / 1024

                async def weekly() -> None:
                    await asyncio.sleep(0.5)
                    _reset_peak()
                    t0 = time.perf_counter()
                    posted = await digest.run_weekly_digest(handoff, team, NOON + timedelta(hours=2))
                    dig.per_run_ms.append((time.perf_counter() - t0) * 1000)
                    dig.peak_mb = _status_kb("VmHWM") / 1024
                    assert posted, "the digest was not queued"

                await _under_load(url, work, probe, dig, weekly, seconds=3)

                phases["rewind"] = rew = Phase("rewind")

                async def rewind() -> None:
                    async with handoff.uow() as uow:  # Home → Settings: every deadline may move
                        await uow.settings.set(team, "sla_remind_minutes", 45, by=ADMIN, at=NOON)
                    t0 = time.perf_counter()
                    await sla.sla_pass(handoff, team, NOON)  # the rewind, then its lease
                    rew.per_run_ms.append((time.perf_counter() - t0) * 1000)
                    async with handoff.uow() as uow:
                        rew.rewound = (await uow.sla_checks.backlog(team, NOON))[0]

                await _under_load(url, work, probe, rew, rewind, seconds=3)
            finally:
                if watch is not None and stacks is not None:
                    watch.stop()
                    watch.write(stacks)
                await probe.stop()
                await runner.cleanup()
                await handoff.close()
    finally:
        await fake.stop()
    return {name: asdict(p) for name, p in phases.items()}


# ----------------------------------------------------------------------------------- the parent


async def run_db(kind: str, open_leads: int, stacks: Path | None = None) -> dict[str, Phase]:
    """One size on one database, in a child process of its own."""
    watch = ["--stacks", str(stacks / f"stalls-{kind}-{open_leads}.txt")] if stacks is not None else []
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.jobs", "--child", kind, str(open_leads), *watch,
        cwd=ROOT, env=_clean_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"bench.jobs child failed: {err.decode(errors='replace')[-3000:]}")
    data = json.loads(out.decode().strip().splitlines()[-1])
    return {name: Phase(**p) for name, p in data.items()}


def rows_for(kind: str, open_leads: int, phases: dict[str, Phase]) -> list[Row]:
    base, idle, due, dig = phases["baseline"], phases["idle_pass"], phases["due"], phases["digest"]
    rew = phases["rewind"]
    n = f"{open_leads:,} open"

    def load(p: Phase) -> str:
        failed = f", {p.failed} failed" if p.failed else ""
        return f"requests p99 {p.p99_ms:.1f} ms, max {p.max_ms:.1f} ms ({p.requests}{failed})"

    def stall(p: Phase) -> str:
        return (
            f"loop held ≤ {p.max_held_ms:.1f} ms ({p.held_over_50} over 50 ms; wall-clock stall "
            f"≤ {p.max_stall_ms:.1f} ms, {p.stalls_over_50} over 50 ms; longest GC {p.max_gc_ms:.0f} ms, "
            f"{p.full_gcs} full)"
        )

    def within(p: Phase) -> bool:
        return p.p99_ms <= P99_FACTOR_GOAL * max(base.p99_ms, 1.0) and p.failed == 0

    idle_ms = statistics.median(idle.per_run_ms) if idle.per_run_ms else float("nan")
    due_ms = statistics.median(due.per_run_ms) if due.per_run_ms else float("nan")
    return [
        Row(bench="jobs", db=kind, case=f"{n}: baseline load (help + Claim, c=5)",
            figure=f"{load(base)}; {stall(base)}"),
        Row(bench="jobs", db=kind, case=f"{n}: SLA pass, nothing due",
            figure=f"{idle_ms:.1f} ms per pass (max {max(idle.per_run_ms, default=0):.1f}, {len(idle.per_run_ms)} "
            f"passes); {stall(idle)}; {load(idle)}",
            goal="pass < 20 ms, stall ≤ 50 ms, p99 ≤ 2× baseline",
            ok=idle_ms < IDLE_PASS_GOAL_MS and idle.max_held_ms <= STALL_GOAL_MS and within(idle)),
        Row(bench="jobs", db=kind, case=f"{n}: SLA, {open_leads // 10:,} due (10%)",
            figure=f"{due.fired:,} fired in {due.seconds:.1f} s, {len(due.per_run_ms)} passes of {due_ms:.0f} ms "
            f"(max {max(due.per_run_ms, default=0):.0f}); {stall(due)}; {load(due)}",
            goal="all fired, stall ≤ 50 ms, p99 ≤ 2× baseline",
            ok=due.fired == open_leads // 10 and due.max_held_ms <= STALL_GOAL_MS and within(due)),
        Row(bench="jobs", db=kind, case=f"{n}: weekly digest",
            figure=f"{max(dig.per_run_ms, default=0):.0f} ms; {stall(dig)}; peak RSS {dig.peak_mb:.0f} MB "
            f"(RSS before {dig.rss_before_mb:.0f} MB); {load(dig)}",
            goal="stall ≤ 50 ms, peak < 150 MB",
            ok=dig.max_held_ms <= STALL_GOAL_MS and dig.peak_mb < PEAK_GOAL_MB and dig.failed == 0),
        Row(bench="jobs", db=kind, case=f"{n}: SLA policy changed (rewind + one pass)",
            figure=f"{max(rew.per_run_ms, default=0):.0f} ms, {rew.rewound:,} leads due after; {stall(rew)}; "
            f"{load(rew)}",
            goal="stall ≤ 50 ms, p99 ≤ 2× baseline",
            ok=rew.max_held_ms <= STALL_GOAL_MS and within(rew)),
    ]  # fmt: skip


async def run(dbs: list[str], sizes: tuple[int, ...] = SIZES, stacks: Path | None = None) -> list[Row]:
    kinds, notes = await databases(dbs)
    rows: list[Row] = []
    for kind in kinds:
        for size in sizes:
            rows += rows_for(kind, size, await run_db(kind, size, stacks))
    rows += [Row(bench="jobs", db="postgresql", case="skipped", figure=n) for n in notes]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument(
        "--stacks", type=Path, help="write the loop's stack 40 ms into each stall, per run, to files here"
    )
    parser.add_argument("--child", nargs=2, metavar=("KIND", "OPEN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, size = args.child
        print(json.dumps(asyncio.run(child(kind, int(size), args.stacks))))
        return
    if args.stacks is not None:
        args.stacks.mkdir(parents=True, exist_ok=True)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    print(table(asyncio.run(run(args.db.split(","), sizes, args.stacks))))


if __name__ == "__main__":
    main()
