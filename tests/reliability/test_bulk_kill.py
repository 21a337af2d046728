"""kill -9 in the middle of a bulk drain (issue 14): two real `python -m bot run` processes on one
database share the drain of a 400-lead import (two campaigns, a few hot leads); one is killed with
SIGKILL while it holds leased rows, one post of it may have reached Slack unanswered. The other
takes the rows over when their lease runs out, looks before it posts, and every lead is reachable
in Slack exactly once: one summary per campaign, each lead listed once in its thread, each hot
lead's card once."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import Handoff, build_app
from bot.sandbox import FakeSlack, visible_text
from bot.storage.models import Outbox
from tests.conftest import SALES, make_settings
from tests.reliability.cluster import Cluster
from tests.reliability.helpers import card_counts, card_lead_id

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
CAMPAIGNS = ("Dec webinar", "Jan ebook")


@pytest.fixture
async def local(engine, fake_slack: FakeSlack, database_url: str) -> AsyncIterator[Handoff]:
    """The test's own view of the shared database; no sender."""
    handoff = build_app(make_settings(database_url, fake_slack), engine=engine, with_scheduler=False)
    yield handoff
    await handoff.close()


@pytest.fixture
async def cluster(fake_slack: FakeSlack, database_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    env = {
        "HANDOFF_BULK_THRESHOLD": "10",  # bulk as in production: summaries and thread lists
        # Slack's pace, a little faster: two instances posting to #sales take some seconds to drain
        "HANDOFF_CHANNEL_RATE": "2",
        "HANDOFF_CHANNEL_BURST": "2",
    }
    c = Cluster(fake=fake_slack, database_url=database_url, tmp=tmp_path, extra_env=env)
    try:
        yield c
    finally:
        await c.stop()


def listed(fake: FakeSlack, summary_ts: str) -> Counter[int]:
    found: Counter[int] = Counter()
    for message in fake.thread(SALES, summary_ts):
        for block in message.blocks:
            match = re.fullmatch(r"bulk_lead_(\d+)", str(block.get("block_id") or ""))
            if match:
                found[int(match.group(1))] += 1
    return found


def reachable(fake: FakeSlack) -> Counter[int]:
    """Each lead's ways in from #sales: its own card, or its line in a summary's thread."""
    found = card_counts(fake, [SALES])
    for message in fake.messages(SALES):
        if card_lead_id(message.blocks) is None:
            found.update(listed(fake, message.ts))
    return found


async def waiting(local: Handoff) -> int:
    async with local.uow() as uow:
        count = await uow.session.scalar(
            select(func.count(Outbox.id)).where(Outbox.status.in_(["pending", "sending"]))
        )
    return int(count or 0)


async def held_by(local: Handoff, pid: int) -> int:
    """Rows the process with this pid holds a lease on (its instance ID carries its pid)."""
    async with local.uow() as uow:
        owners = (
            await uow.session.scalars(select(Outbox.claimed_by).where(Outbox.status == "sending"))
        ).all()
    return sum(1 for owner in owners if owner and owner.split(":")[1] == str(pid))


async def test_kill_9_during_a_bulk_drain_shared_by_two_processes_every_lead_once(
    local: Handoff, cluster: Cluster, fake_slack: FakeSlack
) -> None:
    await cluster.start(2)
    victim, survivor = cluster.instances
    assert victim.proc is not None and survivor.proc is not None
    fake_slack.set_latency(0.01, "chat.postMessage")
    leads = [
        {
            "email": f"bulk{i}@example.com",
            "name": f"Bulk {i}",
            "company": "Acme",
            "source": "import",
            "campaign": CAMPAIGNS[i % 2],
            "score": 95 if i % 80 == 0 else 30,  # 5 hot leads: cards of their own
        }
        for i in range(400)
    ]
    t0 = time.perf_counter()
    ids = await cluster.post_leads(leads, batch=100)  # four chunks of one import, spread over both
    hot = {ids[i] for i in range(0, 400, 80)}
    assert len(set(ids)) == 400

    # mid-drain: some posts out, the victim holding leased rows it has not sent
    while len(fake_slack.messages(SALES, include_threads=True)) < 8:  # noqa: ASYNC110 - polling the fake
        await asyncio.sleep(0.02)
    # the next post reaches Slack, but its answer hangs: whoever sent it cannot record it in time
    fake_slack.fail("chat.postMessage", kind="lost", delay=60)
    while await held_by(local, victim.proc.pid) == 0:  # noqa: ASYNC110 - polling the database
        await asyncio.sleep(0.01)
    assert await cluster.kill9(victim) == -9
    at_kill = len(fake_slack.messages(SALES, include_threads=True))
    left_leased = await held_by(local, victim.proc.pid)
    assert left_leased > 0 and await waiting(local) > 0

    # the survivor takes the victim's rows over once their lease (12 s) runs out
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        if not await waiting(local) and set(reachable(fake_slack)) == set(ids):
            break
        await asyncio.sleep(0.25)
    elapsed = time.perf_counter() - t0
    async with local.uow() as uow:
        unsent = (await uow.session.scalars(select(Outbox).where(Outbox.status != "sent"))).all()
    assert not unsent, [(r.id, r.purpose, r.status, r.attempts, r.last_error, r.claimed_by) for r in unsent]
    found = reachable(fake_slack)
    assert set(found) == set(ids), f"lost: {sorted(set(ids) - set(found))[:10]}"
    assert max(found.values()) == 1, f"twice: {[k for k, v in found.items() if v > 1][:10]}"
    assert set(card_counts(fake_slack, [SALES])) == hot
    summaries = [m for m in fake_slack.messages(SALES) if card_lead_id(m.blocks) is None]
    assert sorted(visible_text(m.blocks).split(":")[0].strip("*") for m in summaries) == sorted(CAMPAIGNS)
    print(
        f"\nbulk drain over 2 processes, kill -9 after {at_kill} messages with {left_leased} rows leased: "
        f"all 400 reachable once after {elapsed:.1f}s, {len(fake_slack.calls_to('conversations.replies'))} "
        f"thread lookups"
    )
