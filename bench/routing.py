"""Benchmark — routing cost per lead (issue 18) with 200 rules and 100 reps.

1. CPU per lead of the pure decision (bot.domain): 200 rules checked in priority order (the lead
   matches the last one: every rule is checked, the worst case), then the rule's 100 reps
   distributed (turn and least_loaded; 20 reps away, caps on), 1,000 owned accounts to match
   against (company names with the typo bound), the why built and turned into its stored JSON.
   Goal: < 1 ms of CPU per lead. Measured with time.process_time over many leads.
2. The routing step with storage, per lead, in 100-lead batches (bot.services.routing.assign_batch
   + record: the rule's row lock, 100 rep_load rows read and written, the decisions inserted), on
   each database: CPU and wall time per lead (no goal; what intake pays for the why and the counts).

    python -m bench.routing [--db sqlite,postgresql] [--leads 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime
from random import Random

from bench.common import Row, bench_database, databases, table
from bot.config import load_settings
from bot.domain.accounts import AccountIndex, AccountRef
from bot.domain.availability import OooPolicy, RepInfo
from bot.domain.distribution import Pool
from bot.domain.intake_plan import Fate, Planned, facts_of
from bot.domain.lead_input import LeadIn
from bot.domain.routing import RuleSpec, route
from bot.domain.routing_why import choose
from bot.services import routing as routing_service
from bot.services.context import open_context
from bot.services.routing import Situation
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Account, Member, RoutingRule

RULES, REPS, ACCOUNTS = 200, 100, 1000
GOAL_MS = 1.0
TEAM = "T_BENCH_ROUTING"
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
_WORDS = ["north", "blue", "river", "stone", "peak", "nova", "delta", "prime", "atlas", "cedar", "ember"]


def reps() -> tuple[str, ...]:
    return tuple(f"U{i:05d}" for i in range(REPS))


def rules(distribute: str) -> list[RuleSpec]:
    """199 rules the benchmark lead fails (each on its last condition), then the catch-all with
    100 weighted, capped reps."""
    out = [
        RuleSpec(
            id=i + 1,
            name=f"rule {i}",
            priority=i,
            channel_id=f"C{i:05d}",
            regions=("emea", "apac"),
            segments=("enterprise",),
            sources=("web", "webinar"),
            email_domains=(f"customer{i}.com",),
        )
        for i in range(RULES - 1)
    ]
    out.append(
        RuleSpec(
            id=RULES,
            name="everyone",
            priority=RULES,
            channel_id="C0SALES",
            reps=reps(),
            weights=tuple(1 + i % 3 for i in range(REPS)),
            distribute=distribute,
            cap_day=1_000_000,
        )
    )
    return out


def accounts() -> list[AccountRef]:
    rng = Random(7)
    return [
        AccountRef(
            id=i,
            company=f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()} {i} GmbH",
            domain=f"acct{i}.io",
            owner_id=f"U{i % REPS:05d}",
        )
        for i in range(ACCOUNTS)
    ]


def lead(n: int) -> LeadIn:
    return LeadIn.model_validate(
        {
            "email": f"lead{n}@prospect{n}.com",
            "company": f"Prospect Industries {n}",
            "region": "emea",
            "segment": "enterprise",
            "source": "web",
        }
    )


def cpu_per_lead(distribute: str, leads: int) -> float:
    """ms of CPU per lead for route → account match → distribution → why JSON, through the routing
    service's own Situation (availability memoised per batch of 100, as intake's batches are)."""
    specs = rules(distribute)
    everyone = specs[-1]
    pool = Pool(rule=everyone)
    infos = {rep: RepInfo(rep, away=i % 5 == 0) for i, rep in enumerate(reps())}
    index = AccountIndex(accounts())
    data = [lead(n) for n in range(leads)]
    rng = Random(1)
    start = time.process_time()
    for n, item in enumerate(data):
        if n % 100 == 0:
            situation = Situation({RULES: pool}, infos, index, None, OooPolicy(), NOW)
        decision = route(specs, facts_of(item), "C0DEFAULT")
        match = situation.account_of(item.company, item.email)
        why = choose(decision, pool=pool, account=match, out=situation.out(everyone), rng=rng)
        why.to_json()
    spent = time.process_time() - start
    assert decision.rule is everyone and why.assignee is not None
    return spent / leads * 1000


def index_build_ms() -> float:
    start = time.process_time()
    for _ in range(5):
        AccountIndex(accounts())
    return (time.process_time() - start) / 5 * 1000


async def storage_per_lead(kind: str, *, leads: int, batch: int = 100) -> tuple[float, float]:
    """(ms CPU, ms wall) per lead for assign_batch + record, in batches of `batch`."""
    async with bench_database(kind) as url:
        engine = make_engine(url)
        try:
            factory = make_session_factory(engine)
            settings = load_settings(database_url=url, sales_channel="C0SALES")
            async with factory() as session, session.begin():
                session.add(
                    RoutingRule(
                        team_id=TEAM, name="everyone", priority=1, enabled=True, channel_id="C0SALES",
                        reps=list(reps()), distribute="least_loaded", cap_day=1_000_000, created_at=NOW,
                    )
                )  # fmt: skip
                session.add_all(
                    Member(team_id=TEAM, user_id=rep, away=False, updated_at=NOW) for rep in reps()
                )
                session.add_all(
                    Account(
                        team_id=TEAM, key=f"domain:{a.domain}", company=a.company, domain=a.domain,
                        owner_id=a.owner_id, won_leads=1, created_at=NOW, updated_at=NOW,
                    )
                    for a in accounts()
                )  # fmt: skip
            async with factory() as session:
                stored = await session.get(RoutingRule, 1)
                assert stored is not None
                from bot.services.intake import rule_spec

                spec = rule_spec(stored)
            cpu = wall = 0.0
            for start_at in range(0, leads, batch):
                plans: list[Planned[object]] = []
                for i, n in enumerate(range(start_at, start_at + batch)):
                    item = lead(n)
                    decision = route([spec], facts_of(item), None)
                    plans.append(Planned(i, item, Fate.NEW, decision=decision))
                c0, w0 = time.process_time(), time.perf_counter()
                async with open_context(factory, settings, TEAM, now=NOW, rng=Random(start_at)) as ctx:
                    planned = await routing_service.assign_batch(ctx, plans, ctx.rng)
                    await routing_service.record(
                        ctx, [(_Lead(start_at + p.index + 1), p.why) for p in planned if p.why]
                    )
                cpu += time.process_time() - c0
                wall += time.perf_counter() - w0
            return cpu / leads * 1000, wall / leads * 1000
        finally:
            await engine.dispose()


class _Lead:
    """What `record` reads of a stored lead (its id), without storing leads."""

    def __init__(self, lead_id: int) -> None:
        self.id = lead_id


def rows_for_cpu(figures: dict[str, float]) -> list[Row]:
    return [
        Row(
            bench="routing",
            db="-",
            case=f"CPU per lead, {RULES} rules, {REPS} reps, {distribute}",
            figure=f"{ms:.3f} ms",
            goal=f"< {GOAL_MS:g} ms",
            ok=ms < GOAL_MS,
        )
        for distribute, ms in figures.items()
    ]


def rows_for_storage(kind: str, cpu: float, wall: float) -> list[Row]:
    return [
        Row(
            bench="routing",
            db=kind,
            case=f"routing step with storage, per lead ({REPS} reps, batches of 100)",
            figure=f"CPU {cpu:.3f} ms, wall {wall:.3f} ms",
        )
    ]


async def small(kinds: list[str], *, leads: int = 1000) -> list[Row]:
    rows = rows_for_cpu({d: cpu_per_lead(d, leads) for d in ("turn", "least_loaded")})
    rows.append(
        Row(
            bench="routing",
            db="-",
            case=f"account index for {ACCOUNTS} accounts (built when they change)",
            figure=f"{index_build_ms():.1f} ms",
        )
    )
    for kind in kinds:
        rows += rows_for_storage(kind, *await storage_per_lead(kind, leads=min(leads, 500)))
    return rows


async def main_async(dbs: list[str], leads: int) -> list[Row]:
    kinds, notes = await databases(dbs)
    rows = await small(kinds, leads=leads)
    rows += [Row(bench="routing", db="postgresql", case="skipped", figure=n) for n in notes]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--leads", type=int, default=3000)
    args = parser.parse_args()
    print(table(asyncio.run(main_async(args.db.split(","), args.leads))))


if __name__ == "__main__":
    main()
