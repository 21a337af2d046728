"""Salesforce sync (#17): how many Lead syncs a second reach a local fake Salesforce through the
outbox (claims and accepts: find or create the Lead, owner by email, Status/Rating, a Task), and a
fault run (a share of the API calls answer 503, REQUEST_LIMIT_EXCEEDED or 401 INVALID_SESSION_ID,
and Task creates lose their answer): attempts, faults injected, lost, duplicated.

    python -m bench.salesforce [--db sqlite,postgresql] [--leads 40] [--fault-leads 20]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select

from bench.common import ADMIN, REPS, SALES, Row, bench_database, databases, make_fake, table
from bot.app import build_app
from bot.clock import SystemClock
from bot.config import load_settings
from bot.domain.lead_input import parse_lead
from bot.domain.outbox import OutboxStatus, Purpose
from bot.outbox.pacing import Pacer
from bot.sandbox.fake_crm import FakeSalesforce
from bot.services.claims import claim_lead
from bot.services.feedback import accept_lead
from bot.services.intake import submit_many
from bot.storage.models import Outbox

LEADS, FAULT_LEADS = 40, 20
# per API call; a sync makes 4–7 calls, so about a quarter of sync attempts meet a fault
FAULT_RATE = 0.05


@dataclass
class Figures:
    leads: int
    seconds: float
    calls: int
    fault_leads: int
    fault_calls: int
    faults: int
    lost: int
    duplicated: int


async def _hand_over(handoff, team: str, prefix: str, count: int) -> list[str]:
    """`count` leads in, each claimed then accepted by a rep (two syncs each, one Task)."""
    emails = [f"{prefix}{i}@acme.com" for i in range(count)]
    items = [
        parse_lead({"email": e, "name": f"Lead {prefix}{i}", "company": "Acme"}) for i, e in enumerate(emails)
    ]
    async with handoff.open_context(team) as ctx:
        results = await submit_many(ctx, items, origin="api")
    for n, result in enumerate(results):
        rep = REPS[n % len(REPS)]
        async with handoff.open_context(team) as ctx:
            await claim_lead(ctx, result.lead.id, user_id=rep)
        async with handoff.open_context(team) as ctx:
            await accept_lead(ctx, result.lead.id, user_id=rep, quality=4, comment="bench")
        handoff.wake_sender()
    return emails


def _synced(fake: FakeSalesforce, emails: list[str]) -> int:
    wanted = set(emails)
    done = {f["Email"] for i, f in fake.leads.items() if f.get("Email") in wanted and fake.tasks_of(i)}
    return len(done)


async def _until(fake: FakeSalesforce, emails: list[str], limit: float) -> None:
    deadline = time.monotonic() + limit
    while _synced(fake, emails) < len(emails) and time.monotonic() < deadline:  # noqa: ASYNC110 (a bench poll)
        await asyncio.sleep(0.02)


async def _drained(handoff, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        async with handoff.uow() as uow:
            waiting = await uow.session.scalar(
                select(func.count(Outbox.id)).where(
                    Outbox.purpose == Purpose.CRM_SYNC,
                    Outbox.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                )
            )
        if not waiting:
            return
        handoff.wake_sender()
        await asyncio.sleep(0.2)


async def run_db(kind: str, *, leads: int, fault_leads: int) -> Figures:
    fake = make_fake()
    await fake.start()
    salesforce = FakeSalesforce()
    for rep in REPS:
        salesforce.add_user(f"{rep.lower()}@example.com", rep)
    await salesforce.start()
    try:
        async with bench_database(kind) as url:
            settings = load_settings(
                slack_bot_token=fake.bot_token, slack_signing_secret="s", slack_api_url=fake.base_url,
                database_url=url, sales_channel=SALES, admins=(ADMIN,), timezone="UTC",
                salesforce_login_url=salesforce.base_url, salesforce_client_id=salesforce.client_id,
                salesforce_client_secret=salesforce.client_secret, salesforce_rate=1e6,
                salesforce_limit_pause_seconds=1, outbox_give_up_hours=1,
                bulk_threshold=100_000,  # a card per lead, as in production for leads one at a time
            )  # fmt: skip
            handoff = build_app(settings, clock=SystemClock(), pacer=Pacer.unlimited(), with_scheduler=False)
            team = await handoff.default_team_id()
            await handoff.start_background(run_scheduler=False)
            try:
                # 1. throughput: every lead claimed and accepted, until each has its Lead and Task
                started = time.perf_counter()
                emails = await _hand_over(handoff, team, "s", leads)
                await _until(salesforce, emails, 300)
                seconds = time.perf_counter() - started
                calls = len(salesforce.calls)
                # 2. faults: 5% of the API calls fail (503, request limit, expired session,
                # a Task's answer lost after it was written)
                salesforce.fault_rate = FAULT_RATE
                fault_emails = await _hand_over(handoff, team, "f", fault_leads)
                await _until(salesforce, fault_emails, 300)
                # every sync row through (a retry after a lost answer must find its Task, not
                # write a second), then a moment for anything doubled to arrive
                await _drained(handoff, 120)
                await asyncio.sleep(1.0)
                salesforce.fault_rate = 0.0
                async with handoff.uow() as uow:
                    failed = await uow.session.execute(
                        select(Outbox.id, Outbox.last_error).where(
                            Outbox.purpose == Purpose.CRM_SYNC, Outbox.status == OutboxStatus.FAILED
                        )
                    )
                    for row_id, error in failed:
                        print(f"failed row {row_id}: {error}")
                    waiting = await uow.session.execute(
                        select(
                            Outbox.id,
                            Outbox.status,
                            Outbox.attempts,
                            Outbox.last_error,
                            Outbox.next_attempt_at,
                        ).where(Outbox.purpose == Purpose.CRM_SYNC, Outbox.status != OutboxStatus.SENT)
                    )
                    for row in waiting:
                        print("not synced:", row)
            finally:
                await handoff.close()
            everyone = emails + fault_emails
            by_email = Counter(str(f.get("Email")) for f in salesforce.leads.values())
            tasks = Counter(str(t.get("WhoId")) for t in salesforce.tasks.values())
            lost = sum(1 for e in everyone if by_email[e] == 0) + sum(
                1 for i, f in salesforce.leads.items() if tasks[i] == 0 and f.get("Email") in set(everyone)
            )
            duplicated = sum(n - 1 for n in by_email.values() if n > 1) + sum(
                n - 1 for n in tasks.values() if n > 1
            )
            return Figures(
                leads=leads,
                seconds=seconds,
                calls=calls,
                fault_leads=fault_leads,
                fault_calls=len(salesforce.calls) - calls,
                faults=salesforce.faults_injected,
                lost=lost,
                duplicated=duplicated,
            )
    finally:
        await salesforce.stop()
        await fake.stop()


def rows_for(kind: str, f: Figures) -> list[Row]:
    syncs = 2 * f.leads  # a claim and an accept each
    return [
        Row(
            bench="salesforce",
            db=kind,
            case=f"{f.leads} leads claimed and accepted: {syncs} Lead syncs, {f.leads} Tasks",
            figure=f"{syncs / f.seconds:,.1f} syncs/s ({f.seconds:.1f} s, {f.calls} API calls, "
            f"{f.calls / syncs:.1f} a sync)",
            goal="> 2.5 syncs/s (SALESFORCE_RATE 10 calls/s)",
            ok=syncs / f.seconds > 2.5,
        ),
        Row(
            bench="salesforce",
            db=kind,
            case=f"faults: {f.fault_leads} leads, {FAULT_RATE:.0%} of API calls fail (503, limit, 401, lost answer)",
            figure=f"{f.fault_calls} API calls, {f.faults} faults injected, lost {f.lost}, duplicated {f.duplicated}",
            goal="lost 0, duplicated 0",
            ok=f.lost == 0 and f.duplicated == 0,
        ),
    ]


async def run(dbs: list[str], *, leads: int = LEADS, fault_leads: int = FAULT_LEADS) -> list[Row]:
    kinds, notes = await databases(dbs)
    rows: list[Row] = []
    for kind in kinds:
        rows += rows_for(kind, await run_db(kind, leads=leads, fault_leads=fault_leads))
    for note in notes:
        print(note)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--leads", type=int, default=LEADS)
    parser.add_argument("--fault-leads", type=int, default=FAULT_LEADS)
    args = parser.parse_args()
    print(table(asyncio.run(run(args.db.split(","), leads=args.leads, fault_leads=args.fault_leads))))


if __name__ == "__main__":
    main()
