"""The outbox sender: pacing per channel and per method tier, bounded give-up with an admin alert,
and never the same row twice — including when Slack did the work but the answer was lost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.outbox.pacing import Pacer
from bot.outbox.rendering import METADATA_EVENT
from bot.outbox.sender import OutboxSender
from bot.storage.models import Lead
from tests.conftest import ADMIN, MARKETING, SALES, RunningBot
from tests.reliability.helpers import add_lead, card_counts, outbox_rows


class VirtualTime:
    """monotonic() and sleep() for a Pacer, so pacing is measured without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def sender_for(handoff: Any, instance_id: str, **options: Any) -> OutboxSender:
    """A second sender on the bot's database and clients, as another instance would run it."""
    return OutboxSender(
        session_factory=handoff.session_factory,
        clients=handoff.clients,
        clock=handoff.clock,
        instance_id=instance_id,
        renderers=handoff.sender.renderers,
        **options,
    )


async def test_posts_are_paced_per_channel_and_channels_do_not_wait_for_each_other() -> None:
    vt = VirtualTime()
    pacer = Pacer(rate=1.0, burst=2, monotonic=vt.monotonic, sleep=vt.sleep)
    for _ in range(6):
        await pacer.acquire_call("T1", "chat.postMessage", "C1")
    # a burst of 2, then one a second
    assert vt.now == pytest.approx(4.0)
    before = vt.now
    await pacer.acquire_call("T1", "chat.postMessage", "C2")
    await pacer.acquire_call("T1", "chat.postMessage", "C2")
    assert vt.now == before


async def test_other_methods_are_paced_by_their_tier_per_workspace() -> None:
    vt = VirtualTime()
    pacer = Pacer(monotonic=vt.monotonic, sleep=vt.sleep)
    for channel in range(10):  # chat.update is tier 3: a burst of 10, whatever the channel
        await pacer.acquire_call("T1", "chat.update", f"C{channel}")
    assert vt.now == 0
    await pacer.acquire_call("T1", "chat.update", "C99")
    assert vt.now == pytest.approx(60 / 50)  # then 50 a minute
    start = vt.now
    await pacer.acquire_call("T2", "chat.update", "C1")  # another workspace has its own budget
    for _ in range(20):  # tier 4 has a bigger burst
        await pacer.acquire_call("T1", "views.publish", None)
    assert vt.now == start


async def test_retry_after_blocks_the_key_for_that_long() -> None:
    vt = VirtualTime()
    pacer = Pacer(rate=100, burst=100, monotonic=vt.monotonic, sleep=vt.sleep)
    key = await pacer.acquire_call("T1", "chat.postMessage", "C1")
    assert key is not None
    pacer.block(key, 7)
    await pacer.acquire_call("T1", "chat.postMessage", "C1")
    assert vt.now == pytest.approx(7)


async def test_unlimited_pacer_never_waits() -> None:
    vt = VirtualTime()
    pacer = Pacer.unlimited()
    pacer.monotonic, pacer.sleep = vt.monotonic, vt.sleep
    for _ in range(200):
        await pacer.acquire_call("T1", "chat.update", "C1")
        await pacer.acquire_call("T1", "chat.postMessage", "C1")
    assert vt.slept == []


async def test_every_post_carries_its_outbox_id_as_metadata(bot: RunningBot) -> None:
    await add_lead(bot.handoff)
    await bot.flush()
    [card] = bot.fake.messages(SALES)
    [row] = await outbox_rows(bot.handoff)
    assert card.extra["metadata"] == {"event_type": METADATA_EVENT, "event_payload": {"outbox_id": row.id}}


async def test_lost_answer_on_a_card_is_found_not_posted_twice(bot: RunningBot) -> None:
    bot.fake.fail("chat.postMessage", kind="lost")
    lead_id = await add_lead(bot.handoff)
    await bot.flush()
    assert len(bot.fake.messages(SALES)) == 1  # Slack has it, we did not hear back
    [row] = await outbox_rows(bot.handoff)
    assert row.status == "pending" and row.attempts == 1
    bot.clock.advance(seconds=5)
    await bot.flush()
    assert card_counts(bot.fake, [SALES]) == {lead_id: 1}
    [row] = await outbox_rows(bot.handoff)
    card = bot.fake.latest(SALES)
    assert row.status == "sent" and row.result_ts == card.ts
    history = bot.fake.calls_to("conversations.history")
    assert len(history) == 1 and history[0].args["include_all_metadata"] in ("1", "true", True)
    async with bot.handoff.uow() as uow:
        lead = await uow.leads.get(card.team or "", lead_id)
        lead = lead or await uow.session.get(Lead, lead_id)
    assert lead is not None and lead.message_ts == card.ts
    # and the card is still the one that gets edited on a claim
    await bot.slack.click(ADMIN, "Claim", channel_id=SALES)
    await bot.flush()
    assert len(bot.fake.latest(SALES).edits) == 1


async def test_lost_answer_on_a_thread_reply_is_found_in_the_thread(bot: RunningBot) -> None:
    await add_lead(bot.handoff)
    await bot.flush()
    card = bot.fake.latest(SALES)
    bot.fake.fail("chat.postMessage", kind="lost")
    await add_lead(bot.handoff)  # the same lead again: a "submitted again" reply in the thread
    await bot.flush()
    bot.clock.advance(seconds=5)
    await bot.flush()
    [reply] = bot.fake.thread(SALES, card.ts)
    assert "Submitted again" in reply.text
    assert len(bot.fake.calls_to("conversations.replies")) == 1
    assert all(r.status == "sent" for r in await outbox_rows(bot.handoff))


async def test_a_429_is_not_looked_up_because_slack_did_nothing(bot: RunningBot) -> None:
    bot.fake.fail("chat.postMessage", kind="ratelimited", retry_after=0)
    await add_lead(bot.handoff)
    await bot.flush()
    bot.clock.advance(seconds=2)
    await bot.flush()
    assert len(bot.fake.messages(SALES)) == 1
    assert bot.fake.calls_to("conversations.history") == []


async def test_crash_after_slack_said_ok_is_recovered_by_another_instance(bot: RunningBot) -> None:
    """Instance A posts, then dies before recording the ts; B takes the row once A's lease is over."""
    handoff = bot.handoff
    dead = sender_for(handoff, "dead-instance", pacer=Pacer.unlimited())

    async def die(*args: object) -> None:
        raise RuntimeError("killed")  # the process dies before a single outcome is written

    dead.writer.write = die  # type: ignore[method-assign]
    lead_id = await add_lead(handoff)
    assert await dead.send_due() == 1
    assert len(bot.fake.messages(SALES)) == 1
    assert await handoff.sender.drain() == 0  # still leased to the dead instance
    bot.clock.advance(seconds=61)
    await handoff.sender.drain()
    assert card_counts(bot.fake, [SALES]) == {lead_id: 1}
    [row] = await outbox_rows(handoff)
    assert row.status == "sent" and row.claimed_by == handoff.instance_id
    assert handoff.sender.found_count == 1


async def test_transient_errors_give_up_after_a_bounded_time_and_alert_admins(bot: RunningBot) -> None:
    bot.handoff.sender.give_up_after = timedelta(minutes=30)
    await bot.handoff.default_team_id()  # auth.test, once, while Slack still answers
    bot.fake.unreachable()
    await add_lead(bot.handoff)
    for _ in range(40):
        await bot.flush()
        bot.clock.advance(minutes=1)
    row, alert_row = await outbox_rows(bot.handoff)
    assert row.status == "failed" and row.attempts > 3 and alert_row.purpose == "alert"
    bot.fake.unreachable(False)
    # the alert row backed off too while Slack was away (jittered, up to max_backoff × 1.5)
    bot.clock.advance(seconds=bot.handoff.sender.max_backoff * 1.5 + 1)
    await bot.flush()
    assert bot.fake.messages(SALES) == []  # given up: not posted late and out of the blue
    [alert] = bot.fake.dms(ADMIN)
    assert "could not deliver" in alert.text and f"<#{SALES}>" in alert.text


async def test_permanent_error_fails_at_once_with_an_alert(bot: RunningBot) -> None:
    bot.fake.channels[SALES].bot_is_member = False
    await add_lead(bot.handoff)
    await bot.flush()
    rows = await outbox_rows(bot.handoff)
    assert [r.status for r in rows] == ["failed", "sent"]
    assert rows[0].attempts == 1 and rows[0].last_error == "not_in_channel"
    [alert] = bot.fake.dms(ADMIN)
    assert "not_in_channel" in alert.text


async def test_a_row_whose_lease_is_nearly_over_is_handed_back_unsent(bot: RunningBot) -> None:
    sender = bot.handoff.sender
    ticks = iter(range(0, 10_000, 100))
    sender.monotonic = lambda: float(next(ticks))  # each look at the clock: 100 s later
    await add_lead(bot.handoff)
    await sender.send_due()
    [row] = await outbox_rows(bot.handoff)
    assert row.status == "pending" and row.attempts == 0
    assert bot.fake.messages(SALES) == []


async def test_stopping_interrupts_a_wait_in_the_pacer_and_hands_the_rows_back(bot: RunningBot) -> None:
    import asyncio
    import time

    for i in range(4):
        await add_lead(bot.handoff, email=f"p{i}@acme.com", name=f"P {i}")
    handoff = bot.handoff
    sender = sender_for(handoff, "stopper", pacer=Pacer(rate=0.1, burst=1))  # one card now, the next in 10 s
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    while not bot.fake.messages(SALES):  # noqa: ASYNC110 (the fake has no "posted" event)
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # the second card is now waiting for its turn
    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, timeout=2)
    assert time.monotonic() - started < 1
    assert len(bot.fake.messages(SALES)) == 1
    rows = await outbox_rows(handoff)
    assert [(r.status, r.attempts) for r in rows if r.status != "sent"] == [("pending", 0)] * 3
    await bot.flush()  # nothing lost: the next sender posts the rest
    assert len(bot.fake.messages(SALES)) == 4


async def test_a_thread_reply_claimed_with_its_card_goes_out_in_the_same_pass(bot: RunningBot) -> None:
    """The reply needs the card's ts, which is only known once the card is posted a moment earlier
    in the same channel's queue: it follows the card at once instead of waiting for a later pass."""
    await add_lead(bot.handoff)
    await add_lead(bot.handoff)  # the same lead again, before its card went out
    assert await bot.handoff.sender.send_due() == 2
    [card] = bot.fake.messages(SALES)
    [reply] = bot.fake.thread(SALES, card.ts)
    assert "Submitted again" in reply.text
    rows = await outbox_rows(bot.handoff)
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1), ("sent", 1)]


async def test_a_busy_channel_does_not_take_the_whole_next_claim(bot: RunningBot) -> None:
    """At 1 message a second and a 60 s lease one channel keeps at most 15 rows queued: the next
    claim goes to other channels' rows, not to rows that would wait past their lease."""
    import asyncio

    handoff = bot.handoff
    stop = asyncio.Event()
    sender = sender_for(handoff, "busy", pacer=Pacer(rate=1.0, burst=1, stop=stop), batch_size=20)
    team = await handoff.default_team_id()
    assert team
    async with handoff.open_context(team) as ctx:
        for i, channel in enumerate([SALES] * 40 + [MARKETING]):
            await ctx.notifier.post(team, channel, f"message {i}")
    assert await sender._claim_and_queue(20) == 20  # all for #sales: one goes, 19 wait their turn
    assert await sender._claim_and_queue(20) == 1  # #sales is full: only #marketing's row
    await asyncio.sleep(0.05)
    stop.set()  # the waiting rows go back to the queue, unsent
    await sender._settle_all()
    assert len(bot.fake.messages(SALES)) == 1 and len(bot.fake.messages(MARKETING)) == 1
    rows = await outbox_rows(handoff)
    assert sum(r.status == "sent" for r in rows) == 2
    assert all(r.status == "pending" and r.attempts == 0 for r in rows if r.status != "sent")


async def test_a_burst_of_commits_wakes_one_claiming_pass_per_gap_not_one_each(bot: RunningBot) -> None:
    """Every commit that queues a row wakes the sender; under load the passes are spaced by
    `pass_gap`, so a burst of 40 wakes costs a couple of claim queries, and its rows still go out."""
    import asyncio

    handoff = bot.handoff
    sender = sender_for(handoff, "spaced", pacer=Pacer.unlimited(), pass_gap=0.2)
    passes = 0
    claim = sender._claim_and_queue

    async def counted(limit: int) -> int:
        nonlocal passes
        passes += 1
        return await claim(limit)

    sender._claim_and_queue = counted  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop, idle_poll=5))
    await asyncio.sleep(0.05)  # the first pass: nothing due yet
    loop = asyncio.get_running_loop()
    started = loop.time()
    for i in range(40):
        await add_lead(handoff, email=f"b{i}@acme.com", name=f"B {i}")
        sender.wake()
        bot.clock.advance(seconds=61)  # a card each: spaced past the burst window (not a burst)
    for _ in range(100):  # the rows go out within a pass or two
        if len(bot.fake.messages(SALES)) == 40:
            break
        await asyncio.sleep(0.05)
    elapsed = loop.time() - started
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert len(bot.fake.messages(SALES)) == 40
    # at most one pass per gap (plus the first and the last), however slow the machine
    assert passes <= elapsed / 0.2 + 3 and passes < 20, f"{passes} claiming passes in {elapsed:.2f} s"


async def test_rows_that_can_only_wait_behind_a_full_channel_wake_no_claiming_pass(bot: RunningBot) -> None:
    """A commit that queues rows wakes the sender, except when every row is for a channel whose
    queue here is full and in a lane that waits its turn: a pass then would walk that channel's
    whole backlog to claim nothing. Hot rows, other channels and rows made due again still wake it;
    a unit of work that queued nothing says nothing."""
    import asyncio

    from sqlalchemy import update

    from bot.domain.outbox import Lane
    from bot.services.context import open_context
    from bot.storage.models import Outbox

    handoff = bot.handoff
    stop = asyncio.Event()
    sender = sender_for(handoff, "full", pacer=Pacer(rate=1.0, burst=1, stop=stop), batch_size=20)
    team = await handoff.default_team_id()
    assert team
    told: list[frozenset[Any]] = []

    def after_commit(queued: frozenset[Any]) -> None:
        told.append(queued)
        sender.wake(queued)

    def unit_of_work() -> Any:
        return open_context(
            handoff.session_factory, handoff.settings, team, now=bot.clock.now(), after_commit=after_commit
        )

    async def woken_by(channel: str, lane: Lane) -> bool:
        sender._wake.clear()
        async with unit_of_work() as ctx:
            await ctx.notifier.post(team, channel, f"{lane.name} for {channel}", lane=lane)
        return sender._wake.is_set()

    async with unit_of_work() as ctx:
        for i in range(40):
            await ctx.notifier.post(team, SALES, f"bulk work {i}", lane=Lane.BULK)
    assert told == [frozenset({(SALES, Lane.BULK)})]
    assert sender._wake.is_set()  # #sales has room yet
    assert await sender._claim_and_queue(20) == 20  # now it is full: one goes, 19 wait their turn
    try:
        assert not await woken_by(SALES, Lane.BULK)
        assert not await woken_by(SALES, Lane.SINGLE)
        assert await woken_by(SALES, Lane.HOT)  # claimed past a full queue
        assert await woken_by(SALES, Lane.PERSON)
        assert await woken_by(MARKETING, Lane.SINGLE)  # another channel, with room
        sender._wake.clear()
        async with unit_of_work() as ctx:
            await ctx.uow.leads.get(team, 1)  # reads only
            assert await ctx.uow.outbox.requeue_failed(team, now=bot.clock.now()) == 0
        assert len(told) == 6 and not sender._wake.is_set()  # queued nothing: not told
        async with handoff.uow() as uow:  # a bulk row given up on, then queued again by an admin
            await uow.session.execute(
                update(Outbox)
                .where(Outbox.status == "pending", Outbox.lane == Lane.BULK)
                .values(status="failed")
            )
        async with unit_of_work() as ctx:
            assert await ctx.uow.outbox.requeue_failed(team, now=bot.clock.now()) > 0
        assert sender._wake.is_set()  # rows made due again: wherever they are, worth a pass
        sender._wake.clear()
        sender.wake()  # a wake that does not say where (a job's run): always a pass
        assert sender._wake.is_set()
    finally:
        stop.set()  # the waiting rows go back to the queue, unsent
        await sender._settle_all()
