"""Several real `python -m bot run` processes: three on one PostgreSQL database with requests (the
leads through POST /api/leads, the clicks, the commands) spread round robin, and a bot killed with
SIGKILL mid-flood. Nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import Handoff, build_app
from bot.domain.events import EventKind
from bot.sandbox import FakeSlack, visible_text
from bot.storage.models import LeadEvent, Outbox, ScheduleSlot
from tests.conftest import ADMIN, INTAKE_TOKEN, SALES, SIGNING_SECRET, is_postgres, make_settings
from tests.reliability.cluster import Cluster
from tests.reliability.helpers import card_counts, card_lead_id

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
REPS = [f"U0CREP{i:02d}" for i in range(20)]


@pytest.fixture
async def local(engine, fake_slack: FakeSlack, database_url: str) -> AsyncIterator[Handoff]:
    """The test's own view of the shared database (to add leads and read results); no sender."""
    for rep in REPS:
        fake_slack.add_user(rep, name=rep.lower())
    fake_slack.channels[SALES].members.update(REPS)
    handoff = build_app(make_settings(database_url, fake_slack), engine=engine, with_scheduler=False)
    yield handoff
    await handoff.close()


@pytest.fixture
async def cluster(fake_slack: FakeSlack, database_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    c = Cluster(fake=fake_slack, database_url=database_url, tmp=tmp_path)
    try:
        yield c
    finally:
        await c.stop()


async def add_leads(cluster: Cluster, count: int, prefix: str = "lead") -> list[int]:
    """`count` leads through POST /api/leads, batches spread round robin over the instances."""
    leads = [
        {"email": f"{prefix}{i}@example.com", "name": f"Lead {i}", "company": "Acme", "source": "webinar"}
        for i in range(count)
    ]
    ids = await cluster.post_leads(leads)
    assert len(set(ids)) == count
    return ids


async def wait_delivered(local: Handoff, fake: FakeSlack, lead_ids: list[int], within: float = 120) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < within:
        async with local.uow() as uow:
            waiting = await uow.session.scalar(
                select(func.count(Outbox.id)).where(Outbox.status.in_(["pending", "sending"]))
            )
        if not waiting and set(card_counts(fake, [SALES])) >= set(lead_ids):
            return time.perf_counter() - started
        await asyncio.sleep(0.25)
    raise AssertionError(f"not delivered within {within}s: {waiting} rows waiting")


async def test_three_instances_one_card_per_lead_one_winner_per_claim_one_run_per_slot(
    local: Handoff, cluster: Cluster, fake_slack: FakeSlack, database_url: str
) -> None:
    if not is_postgres(database_url):
        pytest.skip("several instances share a PostgreSQL database")
    await cluster.start(3)
    t0 = time.perf_counter()
    leads = await add_leads(cluster, 1000)
    print(f"\nleads stored in {time.perf_counter() - t0:.1f}s", flush=True)
    for inst in cluster.instances:  # the load was spread: every process took some of the batches
        assert "POST /api/leads" in inst.log_path.read_text(errors="replace")
    delivered_in = await wait_delivered(local, fake_slack, leads)
    counts = card_counts(fake_slack, [SALES])
    assert set(counts) == set(leads) and max(counts.values()) == 1

    # 500 clicks: 250 leads, each clicked by two reps at once, through different instances
    cards = {card_lead_id(m.blocks): m for m in fake_slack.messages(SALES)}
    targets = leads[:250]
    t1 = time.perf_counter()
    clicks = []
    for i, lead_id in enumerate(targets):
        for rep in (REPS[i % 20], REPS[(i + 7) % 20]):
            clicks.append(
                cluster.driver().click(rep, "Claim", channel_id=SALES, message_ts=cards[lead_id].ts)
            )
    replies = []
    for start in range(0, len(clicks), 50):
        replies += await asyncio.gather(*clicks[start : start + 50])
    clicked_in = time.perf_counter() - t1
    print(f"cards in {delivered_in:.1f}s, clicks in {clicked_in:.1f}s", flush=True)
    assert len(replies) == 500 and all(r.status == 200 for r in replies)
    await wait_delivered(local, fake_slack, leads)
    async with local.uow() as uow:
        claims = Counter(
            (
                await uow.session.scalars(
                    select(LeadEvent.lead_id).where(LeadEvent.kind == EventKind.CLAIMED)
                )
            ).all()
        )
    assert set(claims) == set(targets) and max(claims.values()) == 1
    for lead_id in targets:
        text = visible_text(fake_slack.message(SALES, cards[lead_id].ts).blocks)
        assert text.count("Claimed by") == 1, text
    refusals = [e for e in fake_slack.ephemerals() if "already claimed" in e.text]
    assert len(refusals) == 250
    assert card_counts(fake_slack, [SALES]) == counts  # still one card each

    # the same job fired on every instance in the same slot: exactly one does the work
    job_replies = await asyncio.gather(
        *(d.command(ADMIN, "/handoff", "run purge_processed_keys", channel_id=SALES) for d in cluster.drivers)
    )
    assert all(r.status == 200 for r in job_replies)
    for _ in range(100):
        answers = [e.text for e in fake_slack.ephemerals(ADMIN) if "purge_processed_keys" in e.text]
        if len(answers) == 3:
            break
        await asyncio.sleep(0.1)
    assert sorted(a.split()[0] for a in answers) == [
        "Ran",
        "`purge_processed_keys`",
        "`purge_processed_keys`",
    ]
    async with local.uow() as uow:
        slots = (await uow.session.scalars(select(ScheduleSlot))).all()
    # one slot for the job all three ran (the instances' own schedulers may have claimed others'
    # slots meanwhile: a run on PostgreSQL found a second job's)
    assert [s.job for s in slots].count("purge_processed_keys") == 1, [(s.job, s.slot) for s in slots]

    logs = cluster.logs()
    for secret in (SIGNING_SECRET, fake_slack.bot_token, INTAKE_TOKEN, "lead17@example.com", "response_url"):
        assert secret not in logs
    print(
        f"\n3 instances: 1000 leads delivered in {delivered_in:.1f}s, 500 clicks in {clicked_in:.1f}s, "
        f"{len(fake_slack.calls)} Slack calls, total {time.perf_counter() - t0:.1f}s"
    )


async def test_kill_9_mid_flood_then_restart_delivers_everything_exactly_once(
    local: Handoff, cluster: Cluster, fake_slack: FakeSlack
) -> None:
    await cluster.start(1)
    [bot] = cluster.instances
    fake_slack.set_latency(0.005, "chat.postMessage")
    leads = await add_leads(cluster, 600)
    # mid-way through the sender's claim of 50 rows: the rows it held when it died wait out their
    # lease, then each is looked up in the channel's history (was it posted?) before any re-post;
    # at a claim's first row all 50 are, which costs ~9 s of lookups on a 600-message channel
    while sum(card_counts(fake_slack, [SALES]).values()) < 175:  # noqa: ASYNC110 - polling the fake
        await asyncio.sleep(0.05)
    # the next post reaches Slack, but its answer hangs: the bot dies before it can record the ts
    fake_slack.fail("chat.postMessage", kind="lost", delay=60)
    posted_before = len(fake_slack.calls_to("chat.postMessage"))
    while len(fake_slack.calls_to("chat.postMessage")) == posted_before:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert await cluster.kill9(bot) == -9
    at_kill = sum(card_counts(fake_slack, [SALES]).values())
    assert at_kill < len(leads)
    t0 = time.perf_counter()
    await cluster.launch(bot)
    recovered_in = await wait_delivered(local, fake_slack, leads)
    counts = card_counts(fake_slack, [SALES])
    assert set(counts) == set(leads) and max(counts.values()) == 1
    assert fake_slack.calls_to("conversations.history"), "the stalled row was looked up, not re-posted"
    print(f"\nkill -9 after {at_kill} cards; restart delivered the rest exactly once in {recovered_in:.1f}s")
    del t0
