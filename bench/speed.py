"""Benchmark — speed to lead at real volume (issue 14): a 1,000-lead import through
`POST /api/leads`, then 20 hot leads over the next minute, with the fake Slack enforcing about
1 message a second per channel with Slack's burst (and the bot's pacer set to match).

A real run in real time against `python -m bot run` (no virtual clock): the import takes a
summary card and 50 thread messages, about a minute of #sales's rate. Reported:
- API accept (the 201 in the client's hands) → the hot lead's card reaching the fake Slack, p50/p99
  (goal p99 ≤ 3 s);
- top-level messages in #sales for the import (goal ≤ 1 per 25 leads), and how long its lists took;
- every imported lead reachable in Slack (listed in the summary's thread, once), lost, duplicates,
  and 429 answers (goal 0 each).
Before issue 14 each channel's rows went first in, first out: a hot lead behind this import waited
for 1,000 cards at 1 a second (the issue measured 17.5 minutes).

A burst (`--burst`): a marketing tool posting one request per lead, 300 single-lead POSTs over a
minute for one channel with 20 hot leads among them. Reported: top-level messages in #sales per
burst lead (before burst detection: one card each, 300 messages and 5 minutes of #sales's rate),
the hot leads' API accept → card p50/p99, every lead reachable once.

    python -m bench.speed [--db sqlite,postgresql] [--leads 1000] [--hot 20] [--over 60]
    python -m bench.speed --burst [--db sqlite,postgresql] [--leads 300] [--hot 20] [--over 60]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass

import aiohttp
from sqlalchemy import func, select

from bench.common import INTAKE_TOKEN, SALES, Row, bench_database, databases, make_fake, start_bot, table
from bot.sandbox import FakeSlack
from bot.storage.db import make_engine
from bot.storage.models import Outbox

RATE, BURST = 1.0, 5  # Slack's ~1 message a second per channel, with a short burst
HOT_P99_GOAL = 3.0
LEADS_PER_MESSAGE_GOAL = 25
_CARD = re.compile(r"#(\d+) · received")
_LINE = re.compile(r"bulk_lead_(\d+)")
LAST_LATENCIES: list[float] = []  # the last run's, in arrival order (--verbose)


@dataclass
class SpeedFigures:
    leads: int
    import_seconds: float
    hot_latencies: list[float]
    hot_missing: int
    top_level_for_import: int
    listed: Counter[int]
    imported: list[int]
    drain_seconds: float
    rate_limited: int
    unsent_rows: dict[str, int]  # outbox rows not sent at the end, by status

    @property
    def lost(self) -> int:
        return len(set(self.imported) - set(self.listed))

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.listed.values() if count > 1)


def import_lead(i: int) -> dict[str, object]:
    return {
        "external_id": f"webinar-{i}",
        "email": f"guest{i}@example{i % 97}.com",
        "name": f"Guest {i}",
        "company": f"Company {i % 300}",
        "source": "webinar",
        "campaign": "Dec webinar",
        "score": i % 80,  # none hot: the hot ones come after
    }


def hot_lead(i: int) -> dict[str, object]:
    return {"email": f"demo{i}@bigco{i}.com", "name": f"Demo Request {i}", "company": "BigCo", "score": 95}


def _card_id(message_blocks: list[dict[str, object]]) -> int | None:
    for block in message_blocks:
        for element in block.get("elements") or []:  # type: ignore[attr-defined]
            found = _CARD.search(str(element.get("text") or ""))
            if found:
                return int(found.group(1))
    return None


def card_times(fake: FakeSlack) -> dict[int, float]:
    """When each lead's card reached the fake (its first successful chat.postMessage)."""
    times: dict[int, float] = {}
    for call in fake.calls:
        if call.method != "chat.postMessage" or call.status != 200:
            continue
        lead_id = _card_id(list(call.args.get("blocks") or []))
        if lead_id is not None:
            times.setdefault(lead_id, call.at)
    return times


def listed(fake: FakeSlack, channel: str) -> Counter[int]:
    found: Counter[int] = Counter()
    for message in fake.messages(channel, include_threads=True):
        if not message.is_reply:
            continue
        for block in message.blocks:
            match = _LINE.fullmatch(str(block.get("block_id") or ""))
            if match:
                found[int(match.group(1))] += 1
    return found


async def run_db(kind: str, *, leads: int = 1000, hot: int = 20, over: float = 60.0) -> SpeedFigures:
    async with bench_database(kind) as url:
        fake = make_fake([SALES])
        await fake.start()
        try:
            fake.rate_limit(RATE, burst=BURST)
            bot = await start_bot(
                url,
                fake,
                HANDOFF_CHANNEL_RATE=str(RATE),
                HANDOFF_CHANNEL_BURST=str(BURST),
                HANDOFF_DUPLICATE_WINDOW_DAYS="0",
            )
            headers = {"Authorization": f"Bearer {INTAKE_TOKEN}"}
            try:
                async with aiohttp.ClientSession() as session:
                    started = time.perf_counter()
                    batches = [
                        [import_lead(i) for i in range(first, min(first + 100, leads))]
                        for first in range(0, leads, 100)
                    ]

                    async def send(batch: list[dict[str, object]]) -> list[int]:
                        async with session.post(
                            bot.url + "/api/leads", json={"leads": batch}, headers=headers
                        ) as r:
                            body = await r.json()
                            assert r.status == 200, body
                            return [int(x["id"]) for x in body["results"] if x["status"] == "created"]

                    imported = [i for ids in await asyncio.gather(*(send(b) for b in batches)) for i in ids]
                    import_seconds = time.perf_counter() - started
                    accepted: dict[int, float] = {}
                    for n in range(hot):
                        async with session.post(
                            bot.url + "/api/leads", json=hot_lead(n), headers=headers
                        ) as r:
                            body = await r.json()
                            assert r.status == 201, body
                            accepted[int(body["id"])] = fake.clock()
                        await asyncio.sleep(over / hot)
                deadline = time.monotonic() + 3 * leads / 25 / RATE + 120
                while time.monotonic() < deadline:
                    if len(listed(fake, SALES)) >= len(imported) and set(accepted) <= set(card_times(fake)):
                        break
                    await asyncio.sleep(0.25)
            finally:
                await bot.stop()
            unsent = await unsent_rows(url)
        finally:
            await fake.stop()
    cards = card_times(fake)
    LAST_LATENCIES[:] = [cards[i] - at for i, at in accepted.items() if i in cards]
    posts = [c.at for c in fake.calls if c.method == "chat.postMessage" and c.status == 200]
    top = [m for m in fake.messages(SALES) if _card_id(m.blocks) not in accepted]
    return SpeedFigures(
        leads=len(imported),
        import_seconds=import_seconds,
        hot_latencies=[cards[i] - at for i, at in accepted.items() if i in cards],
        hot_missing=len(set(accepted) - set(cards)),
        top_level_for_import=len(top),
        listed=listed(fake, SALES),
        imported=imported,
        drain_seconds=(max(posts) - min(posts)) if posts else 0.0,
        rate_limited=fake.rate_limited_count,
        unsent_rows=unsent,
    )


def burst_lead(i: int) -> dict[str, object]:
    return {
        "external_id": f"promo-{i}",
        "email": f"visitor{i}@example{i % 89}.com",
        "name": f"Visitor {i}",
        "company": f"Company {i % 200}",
        "source": "landing page",
        "campaign": "Spring promo",
        "score": i % 70,  # none hot: the hot ones are interleaved
    }


@dataclass
class BurstFigures:
    singles: int  # the burst's leads that are not hot, one request each
    post_seconds: float
    hot_latencies: list[float]
    hot_missing: int
    top_level_for_burst: int  # top-level messages in #sales that are not the hot leads' cards
    reached: Counter[int]  # each burst lead: its own card or its line in a summary's thread
    burst_ids: list[int]
    thread_messages: int
    drain_seconds: float
    rate_limited: int
    unsent_rows: dict[str, int]

    @property
    def lost(self) -> int:
        return len(set(self.burst_ids) - set(self.reached))

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.reached.values() if count > 1)


async def run_burst_db(kind: str, *, singles: int = 300, hot: int = 20, over: float = 60.0) -> BurstFigures:
    """`singles` one-lead POSTs spread evenly over `over` seconds, `hot` hot ones among them."""
    async with bench_database(kind) as url:
        fake = make_fake([SALES])
        await fake.start()
        try:
            fake.rate_limit(RATE, burst=BURST)
            bot = await start_bot(
                url,
                fake,
                HANDOFF_CHANNEL_RATE=str(RATE),
                HANDOFF_CHANNEL_BURST=str(BURST),
                HANDOFF_DUPLICATE_WINDOW_DAYS="0",
            )
            headers = {"Authorization": f"Bearer {INTAKE_TOKEN}"}
            accepted: dict[int, float] = {}
            burst_ids: list[int] = []
            try:
                async with aiohttp.ClientSession() as session:
                    started = time.perf_counter()

                    async def send(at: float, data: dict[str, object], is_hot: bool) -> None:
                        await asyncio.sleep(max(0.0, started + at - time.perf_counter()))
                        async with session.post(bot.url + "/api/leads", json=data, headers=headers) as r:
                            body = await r.json()
                            assert r.status == 201, body
                        if is_hot:
                            accepted[int(body["id"])] = fake.clock()
                        else:
                            burst_ids.append(int(body["id"]))

                    sends = [send(i * over / singles, burst_lead(i), False) for i in range(singles)]
                    sends += [send((n + 0.5) * over / hot, hot_lead(n), True) for n in range(hot)]
                    await asyncio.gather(*sends)
                    post_seconds = time.perf_counter() - started
                deadline = time.monotonic() + singles / 20 / RATE + 120
                while time.monotonic() < deadline:
                    if set(burst_ids) <= set(_reached(fake, set(accepted))) and set(accepted) <= set(
                        card_times(fake)
                    ):
                        break
                    await asyncio.sleep(0.25)
            finally:
                await bot.stop()
            unsent = await unsent_rows(url)
        finally:
            await fake.stop()
    cards = card_times(fake)
    posts = [c.at for c in fake.calls if c.method == "chat.postMessage" and c.status == 200]
    top = [m for m in fake.messages(SALES) if _card_id(m.blocks) not in accepted]
    return BurstFigures(
        singles=len(burst_ids),
        post_seconds=post_seconds,
        hot_latencies=[cards[i] - at for i, at in accepted.items() if i in cards],
        hot_missing=len(set(accepted) - set(cards)),
        top_level_for_burst=len(top),
        reached=_reached(fake, set(accepted)),
        burst_ids=burst_ids,
        thread_messages=sum(1 for m in fake.messages(SALES, include_threads=True) if m.is_reply),
        drain_seconds=(max(posts) - min(posts)) if posts else 0.0,
        rate_limited=fake.rate_limited_count,
        unsent_rows=unsent,
    )


def _reached(fake: FakeSlack, hot: set[int]) -> Counter[int]:
    """Each lead that is not hot: its own top-level card, plus its lines in summaries' threads."""
    found: Counter[int] = Counter(
        lead_id
        for m in fake.messages(SALES)
        if (lead_id := _card_id(m.blocks)) is not None and lead_id not in hot
    )
    found.update(listed(fake, SALES))
    return found


def burst_rows_for(kind: str, f: BurstFigures, *, hot: int, over: float) -> list[Row]:
    per_lead = f.top_level_for_burst / f.singles if f.singles else float("nan")
    return [
        Row(
            bench="speed",
            db=kind,
            case=f"burst: {f.singles} one-lead POSTs + {hot} hot over {over:g} s, 1 msg/s/channel, burst {BURST}",
            figure=f"{f.top_level_for_burst} top-level message(s) in #sales for {f.singles} leads "
            f"({per_lead:.3f} per lead; {f.thread_messages} thread messages); hot API accept → card "
            f"p50 {p(f.hot_latencies, 0.5):.2f} s, p99 {p(f.hot_latencies, 0.99):.2f} s, {f.hot_missing} never posted; "
            f"lost {f.lost}, duplicates {f.duplicates}, 429s {f.rate_limited}; posted in {f.post_seconds:.0f} s, "
            f"everything out within {f.drain_seconds:.0f} s"
            + (f", outbox rows not sent {f.unsent_rows}" if f.unsent_rows else ""),
            goal=f"≤ 1 per {LEADS_PER_MESSAGE_GOAL} leads past the threshold, hot p99 ≤ {HOT_P99_GOAL:g} s, "
            "all reachable once, 0 × 429",
            ok=f.top_level_for_burst <= 10 + f.singles / LEADS_PER_MESSAGE_GOAL
            and bool(f.hot_latencies)
            and f.hot_missing == 0
            and p(f.hot_latencies, 0.99) <= HOT_P99_GOAL
            and f.lost == 0
            and f.duplicates == 0
            and f.rate_limited == 0
            and not f.unsent_rows,
        )
    ]


async def unsent_rows(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(Outbox.status, func.count()).where(Outbox.status != "sent").group_by(Outbox.status)
            )
            return {str(status): int(n) for status, n in rows}
    finally:
        await engine.dispose()


def p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rows_for(kind: str, f: SpeedFigures, *, hot: int) -> list[Row]:
    per_message = f.leads / f.top_level_for_import if f.top_level_for_import else float("inf")
    return [
        Row(
            bench="speed",
            db=kind,
            case=f"{hot} hot leads over a minute behind a {f.leads:,}-lead import, 1 msg/s/channel, burst {BURST}",
            figure=f"API accept → card p50 {p(f.hot_latencies, 0.5):.2f} s, p99 {p(f.hot_latencies, 0.99):.2f} s, "
            f"max {max(f.hot_latencies, default=float('nan')):.2f} s; {f.hot_missing} never posted"
            f" · mean {statistics.fmean(f.hot_latencies) if f.hot_latencies else float('nan'):.2f} s",
            goal=f"p99 ≤ {HOT_P99_GOAL:g} s",
            ok=bool(f.hot_latencies) and f.hot_missing == 0 and p(f.hot_latencies, 0.99) <= HOT_P99_GOAL,
        ),
        Row(
            bench="speed",
            db=kind,
            case="the import in #sales",
            figure=f"{f.top_level_for_import} top-level message(s) for {f.leads:,} leads ({per_message:,.0f} leads each); "
            f"{sum(f.listed.values()):,} listed in its thread; accepted in {f.import_seconds:.1f} s, "
            f"everything posted within {f.drain_seconds:.0f} s; lost {f.lost}, duplicates {f.duplicates}, "
            f"429s {f.rate_limited}" + (f", outbox rows not sent {f.unsent_rows}" if f.unsent_rows else ""),
            goal=f"≤ 1 per {LEADS_PER_MESSAGE_GOAL} leads, all reachable, 0 lost, 0 duplicates, 0 × 429",
            ok=per_message >= LEADS_PER_MESSAGE_GOAL
            and f.lost == 0
            and f.duplicates == 0
            and f.rate_limited == 0
            and not f.unsent_rows,
        ),
    ]


async def run(dbs: list[str], *, leads: int, hot: int, over: float, burst: bool = False) -> list[Row]:
    kinds, notes = await databases(dbs)
    rows: list[Row] = []
    for kind in kinds:
        if burst:
            figures = await run_burst_db(kind, singles=leads, hot=hot, over=over)
            rows += burst_rows_for(kind, figures, hot=hot, over=over)
        else:
            rows += rows_for(kind, await run_db(kind, leads=leads, hot=hot, over=over), hot=hot)
    rows += [Row(bench="speed", db="postgresql", case="skipped", figure=n) for n in notes]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--leads", type=int, default=None, help="1000 (an import) or 300 (--burst)")
    parser.add_argument("--burst", action="store_true", help="one-lead POSTs instead of an import")
    parser.add_argument("--hot", type=int, default=20)
    parser.add_argument("--over", type=float, default=60.0, help="seconds the hot leads are spread over")
    parser.add_argument("--verbose", action="store_true", help="print each hot lead's latency")
    args = parser.parse_args()
    leads = args.leads or (300 if args.burst else 1000)
    rows = asyncio.run(run(args.db.split(","), leads=leads, hot=args.hot, over=args.over, burst=args.burst))
    print(table(rows))
    if args.verbose:
        print("hot latencies in order:", ", ".join(f"{x:.2f}" for x in LAST_LATENCIES))


if __name__ == "__main__":
    main()
