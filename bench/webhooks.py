"""Outbound events (#17): how many signed events a second reach a local receiver through the
outbox, the delivery latency (commit → receiver) under a steady trickle, and a fault run (the
receiver answers 5xx, 429 and resets at random): attempts, faults injected, lost, duplicated.

    python -m bench.webhooks [--db sqlite,postgresql] [--events 2000] [--fault-events 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass

from bench.common import ADMIN, SALES, Row, bench_database, databases, make_fake, table
from bot.app import build_app
from bot.clock import SystemClock
from bot.config import load_settings
from bot.domain.lead_input import parse_lead
from bot.outbox.pacing import Pacer
from bot.sandbox.webhook_receiver import WebhookReceiver, verify_with
from bot.services import webhooks
from bot.services.intake import submit_many

EVENTS, FAULT_EVENTS = 2000, 300


@dataclass
class Figures:
    events: int
    burst_s: float
    latency_ms: list[float]
    fault_events: int
    fault_attempts: int
    faults: int
    lost: int
    duplicated: int
    rejected: int


async def _submit(handoff, team: str, start: int, count: int) -> None:
    items = [parse_lead({"email": f"w{start + i}@acme.com", "name": f"W {start + i}"}) for i in range(count)]
    async with handoff.open_context(team) as ctx:
        await submit_many(ctx, items, origin="api")


async def _until(receiver: WebhookReceiver, count: int, limit: float) -> None:
    deadline = time.monotonic() + limit
    while len(receiver.received) < count and time.monotonic() < deadline:  # noqa: ASYNC110 (a bench poll)
        await asyncio.sleep(0.01)


async def run_db(kind: str, *, events: int, fault_events: int) -> Figures:
    fake = make_fake()
    await fake.start()
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    receiver = WebhookReceiver(verify=verify_with(secret))
    await receiver.start()
    try:
        async with bench_database(kind) as url:
            settings = load_settings(
                slack_bot_token=fake.bot_token, slack_signing_secret="s", slack_api_url=fake.base_url,
                database_url=url, sales_channel=SALES, admins=(ADMIN,), timezone="UTC",
                webhook_allow_private=True, webhook_rate=1e6, webhook_burst=1e6,
                outbox_give_up_hours=1,
            )  # fmt: skip
            handoff = build_app(settings, clock=SystemClock(), pacer=Pacer.unlimited(), with_scheduler=False)
            team = await handoff.default_team_id()
            async with handoff.open_context(team) as ctx:
                await webhooks.add_endpoint(ctx, receiver.url, events="lead.created", secret=secret, by=None)
            # the cards go to the fake Slack too; only the events are counted here
            await handoff.start_background(run_scheduler=False)
            try:
                # 1. a burst: `events` leads in batches of 500, then wait for every event
                started = time.perf_counter()
                for i in range(0, events, 500):
                    await _submit(handoff, team, i, min(500, events - i))
                handoff.wake_sender()
                await _until(receiver, events, 300)
                burst = time.perf_counter() - started
                # 2. latency: one lead every 20 ms for 5 s, each timed commit → arrival
                committed: dict[str, float] = {}
                base = events
                for n in range(250):
                    await _submit(handoff, team, base + n, 1)
                    committed[f"w{base + n}@acme.com"] = time.monotonic()
                    handoff.wake_sender()
                    await asyncio.sleep(0.02)
                await _until(receiver, events + 250, 60)
                latency = [
                    (d.at - committed[d.data["email"]]) * 1000
                    for d in receiver.received.values()
                    if d.data.get("email") in committed
                ]
                # 3. faults: a fifth of the requests fail (503, 500, 429 Retry-After 1 s, resets)
                receiver.fault_rate = 0.2
                before_attempts, before = receiver.attempts, len(receiver.received)
                await _submit(handoff, team, base + 1000, fault_events)
                handoff.wake_sender()
                await _until(receiver, before + fault_events, 240)
                await asyncio.sleep(1.0)  # anything doubled would arrive meanwhile
                got = len(receiver.received) - before
            finally:
                await handoff.close()
            return Figures(
                events=events,
                burst_s=burst,
                latency_ms=latency,
                fault_events=fault_events,
                fault_attempts=receiver.attempts - before_attempts,
                faults=receiver.faults_injected,
                lost=fault_events - got + (events + 250 - before),
                duplicated=receiver.duplicates,
                rejected=receiver.rejected,
            )
    finally:
        await receiver.stop()
        await fake.stop()


def rows_for(kind: str, f: Figures) -> list[Row]:
    ms = sorted(f.latency_ms) or [0.0]
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return [
        Row(
            bench="webhooks",
            db=kind,
            case=f"{f.events:,} lead.created events, burst, one local endpoint",
            figure=f"{f.events / f.burst_s:,.0f} events/s ({f.burst_s:.1f} s, signed and verified)",
            goal="> 100 events/s",
            ok=f.events / f.burst_s > 100,
        ),
        Row(
            bench="webhooks",
            db=kind,
            case="delivery latency, one event every 20 ms",
            figure=f"p50 {statistics.median(ms):.0f} ms, p99 {p99:.0f} ms, max {ms[-1]:.0f} ms ({len(ms)} events)",
            goal="p99 < 1 s",
            ok=p99 < 1000,
        ),
        Row(
            bench="webhooks",
            db=kind,
            case=f"faults: {f.fault_events} events, 20% of requests fail (5xx, 429, reset)",
            figure=f"{f.fault_attempts} attempts, {f.faults} faults injected, lost {f.lost}, "
            f"duplicated {f.duplicated}, bad signatures {f.rejected}",
            goal="lost 0, duplicated 0",
            ok=f.lost == 0 and f.duplicated == 0 and f.rejected == 0,
        ),
    ]


async def run(dbs: list[str], *, events: int = EVENTS, fault_events: int = FAULT_EVENTS) -> list[Row]:
    kinds, notes = await databases(dbs)
    rows: list[Row] = []
    for kind in kinds:
        rows += rows_for(kind, await run_db(kind, events=events, fault_events=fault_events))
    for note in notes:
        print(note)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--fault-events", type=int, default=FAULT_EVENTS)
    args = parser.parse_args()
    print(table(asyncio.run(run(args.db.split(","), events=args.events, fault_events=args.fault_events))))


if __name__ == "__main__":
    main()
