"""Idempotent edges, `/handoff status`, and acks within Slack's 3 seconds when Slack and the
database are slow."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.util import await_only

from bot.domain.events import EventKind
from bot.sandbox import visible_text
from bot.storage.models import LeadEvent, ProcessedKey
from tests.conftest import ADMIN, MARKETER, MARKETING, MODES, REP1, SALES, RunningBot
from tests.reliability.helpers import add_lead
from tests.scenario.helpers_intake import counts


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Ack discipline and idempotent edges are the same over HTTP and over Socket Mode."""
    return str(request.param)


def home_event(user: str) -> dict[str, Any]:
    # an event type no feature listens to, so the test's own listener is the one that runs
    return {"type": "reaction_added", "user": user, "reaction": "eyes", "item": {"type": "message"}}


def count_home_opens(bot: RunningBot) -> list[str]:
    seen: list[str] = []

    @bot.handoff.bolt.event("reaction_added")
    async def record(event: dict[str, Any]) -> None:  # a listener of this test only
        seen.append(event["user"])

    return seen


async def processed_keys(bot: RunningBot) -> list[str]:
    async with bot.handoff.uow() as uow:
        return list(await uow.session.scalars(select(ProcessedKey.key)))


async def test_slack_retries_of_an_event_run_the_listener_once(bot: RunningBot) -> None:
    seen = count_home_opens(bot)
    first = await bot.slack.event(home_event(REP1), event_id="Ev0000000001")
    retry1 = await bot.slack.event(home_event(REP1), event_id="Ev0000000001", retry_num=1)
    retry2 = await bot.slack.event(
        home_event(REP1), event_id="Ev0000000001", retry_num=2, retry_reason="http_error"
    )
    other = await bot.slack.event(home_event(REP1), event_id="Ev0000000002")
    assert [r.status for r in (first, retry1, retry2, other)] == [200, 200, 200, 200]
    assert seen == [REP1, REP1]  # Ev…1 once, Ev…2 once
    assert sorted(await processed_keys(bot)) == ["event:Ev0000000001", "event:Ev0000000002"]


async def test_duplicate_deliveries_at_the_same_moment_run_once(bot: RunningBot) -> None:
    seen = count_home_opens(bot)
    replies = await asyncio.gather(
        *(bot.slack.event(home_event(REP1), event_id="Ev00000000AA") for _ in range(10))
    )
    assert all(r.status == 200 for r in replies)
    assert seen == [REP1]


async def test_a_failed_delivery_is_forgotten_so_slacks_retry_is_handled(bot: RunningBot, mode: str) -> None:
    calls: list[int] = []

    @bot.handoff.bolt.event("reaction_added")
    async def flaky(event: dict[str, Any]) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")

    first = await bot.slack.event(home_event(REP1), event_id="Ev00000000BB")
    if mode == "http":
        assert first.status >= 500  # Slack will retry
    else:
        # Socket Mode acks every envelope; a redelivery (e.g. after a reconnect) still runs it
        assert first.status == 200 and len(calls) == 1
    retry = await bot.slack.event(home_event(REP1), event_id="Ev00000000BB", retry_num=1)
    assert retry.status == 200 and len(calls) == 2
    again = await bot.slack.event(home_event(REP1), event_id="Ev00000000BB", retry_num=2)
    assert again.status == 200 and len(calls) == 2


async def test_processed_keys_expire_and_are_purged(bot: RunningBot) -> None:
    from bot.jobs import purge_processed_keys

    await bot.slack.event(home_event(REP1), event_id="Ev00000000CC")
    team = await bot.handoff.default_team_id()
    assert team
    await purge_processed_keys(bot.handoff, team, bot.clock.now())
    assert await processed_keys(bot) == ["event:Ev00000000CC"]
    from datetime import timedelta

    await purge_processed_keys(bot.handoff, team, bot.clock.now() + timedelta(hours=25))
    assert await processed_keys(bot) == []


async def test_replayed_click_changes_nothing_the_second_time(bot: RunningBot) -> None:
    """The very same signed block_actions request sent twice (a replay within the 5-minute window)."""
    await add_lead(bot.handoff)
    await bot.flush()
    sent: list[tuple[bytes, dict[str, str]]] = []
    original = bot.slack.send_raw

    async def capture(body: Any, **kwargs: Any) -> Any:
        ts = str(int(time.time()))
        kwargs.setdefault("timestamp", ts)
        kwargs.setdefault("signature", bot.slack.sign(body, kwargs["timestamp"]))
        sent.append((body, dict(kwargs)))
        return await original(body, **kwargs)

    bot.slack.send_raw = capture  # type: ignore[method-assign]
    first = await bot.slack.click(REP1, "Claim", channel_id=SALES)
    body, kwargs = sent[0]
    replay = await original(body, **kwargs)
    assert first.status == 200 and replay.status == 200
    await bot.flush()
    card = bot.fake.latest(SALES)
    assert len(card.edits) == 1 and f"Claimed by <@{REP1}>" in visible_text(card.blocks)
    async with bot.handoff.uow() as uow:
        claims = await uow.session.scalar(
            select(func.count(LeadEvent.id)).where(LeadEvent.kind == EventKind.CLAIMED)
        )
    assert claims == 1
    assert "You already own this lead." in [e.text for e in bot.fake.ephemerals(REP1)]


async def test_status_shows_queue_depth_oldest_age_failures_and_last_errors(bot: RunningBot) -> None:
    bot.fake.channels[SALES].bot_is_member = False
    await add_lead(bot.handoff, email="a@acme.com")
    await bot.flush()  # fails for good: not_in_channel, admins alerted
    bot.fake.channels[SALES].bot_is_member = True
    await add_lead(bot.handoff, email="b@acme.com")
    await add_lead(bot.handoff, email="c@acme.com")
    from datetime import timedelta

    bot.clock.advance(timedelta(minutes=12))
    reply = await bot.slack.command(ADMIN, "/handoff", "status", channel_id=SALES)
    assert reply.status == 200
    text = reply.text
    assert "Waiting to be sent: *2*" in text and "oldest waiting for 12 min" in text
    assert "Given up (admins were alerted): *1*" in text
    assert "not_in_channel" in text
    await bot.flush()
    reply = await bot.slack.command(ADMIN, "/handoff", "status", channel_id=SALES)
    assert "Waiting to be sent: *0*" in reply.text and "nothing waiting" in reply.text


async def test_status_is_for_admins_only_and_refusals_are_logged(bot: RunningBot, caplog: Any) -> None:
    caplog.set_level(logging.INFO)
    reply = await bot.slack.command(REP1, "/handoff", "status", channel_id=SALES)
    assert "Only Handoff admins" in reply.text and "Waiting" not in reply.text
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING and "refused" in r.getMessage()]
    assert REP1 in record.getMessage() and "status" in record.getMessage()
    assert "trigger_id" not in record.getMessage() and "response_url" not in record.getMessage()


def slow_database(engine: Any, seconds: float) -> Any:
    """Every SQL statement takes `seconds` longer, without blocking the event loop."""

    def delay(*args: Any) -> None:
        await_only(asyncio.sleep(seconds))

    event.listen(engine.sync_engine, "before_cursor_execute", delay)
    return lambda: event.remove(engine.sync_engine, "before_cursor_execute", delay)


async def timed(coro: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = await coro
    return time.perf_counter() - start, result


async def test_every_ack_within_three_seconds_with_slow_slack_and_slow_database(
    bot: RunningBot, engine: Any
) -> None:
    await add_lead(bot.handoff)
    await bot.flush()
    seen = count_home_opens(bot)
    await bot.slack.command(REP1, "/handoff", "help")  # Bolt's auth.test, once per process
    undo = slow_database(engine, 0.15)
    bot.fake.set_latency(4.0)  # every Web API call: slower than Slack's whole ack budget
    try:
        replies = {
            "command /handoff help": await bot.slack.command(REP1, "/handoff", "help"),
            "command /handoff status": await bot.slack.command(ADMIN, "/handoff", "status"),
            "click Claim": await bot.slack.click(REP1, "Claim", channel_id=SALES),
        }
        timings = {what: (reply.ack_seconds, reply) for what, reply in replies.items()}
        timings["event"] = await timed(bot.slack.event(home_event(REP1)))
        for what, (seconds, reply) in timings.items():
            assert reply.status == 200, what
            assert seconds < 3.0, f"{what} answered after {seconds:.2f}s"
        assert "/lead" in replies["command /handoff help"].text
        assert "Waiting to be sent" in replies["command /handoff status"].text
        # the click outlived its ack (a slow membership check), and still did its work
        await asyncio.sleep(0)
        for _ in range(200):
            if f"Claimed by <@{REP1}>" in _card_text(bot):
                break
            bot.fake.set_latency(0)
            await bot.flush()
            await asyncio.sleep(0.05)
        assert f"Claimed by <@{REP1}>" in _card_text(bot)
        assert seen == [REP1]
    finally:
        undo()
        bot.fake.set_latency(0)


def _card_text(bot: RunningBot) -> str:
    card = bot.fake.latest(SALES)
    return visible_text(card.blocks) if card else ""


async def test_a_command_that_misses_the_deadline_still_answers_through_response_url(
    bot: RunningBot,
) -> None:
    bot.fake.set_latency(4.0)  # Bolt's first auth.test is slow: the ack cannot carry the help text
    try:
        reply = await bot.slack.command(REP1, "/handoff", "help", channel_id=SALES)
    finally:
        bot.fake.set_latency(0)
    assert reply.status == 200 and reply.ack_seconds < 3.0 and reply.body == ""
    # what the person sees a moment later: the driver waited for it, as they would
    assert reply.late and "/lead" in reply.text
    [late] = bot.fake.ephemerals(REP1)
    assert late.source == "response_url" and late.text == reply.text


async def test_a_listener_that_fails_after_its_ack_answers_200_and_apologises(bot: RunningBot) -> None:
    from bot.sandbox.fake_slack import _SlackError

    await add_lead(bot.handoff)
    await bot.flush()

    def expired(trigger_id: object) -> None:
        raise _SlackError("expired_trigger_id")  # the person's click reached us too late

    bot.fake._take_trigger = expired  # type: ignore[method-assign]
    reply = await bot.slack.click(REP1, "Details", channel_id=SALES)
    assert reply.status == 200
    await bot.flush()  # the apology is on its way to the response_url: wait for it
    [sorry] = bot.fake.ephemerals(REP1)
    assert "something went wrong" in sorry.text


async def test_a_form_whose_errors_come_after_slack_closed_it_reaches_the_person_by_dm(
    bot: RunningBot, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.slack import edge

    await bot.slack.command(MARKETER, "/lead", "", channel_id=MARKETING)
    assert bot.fake.open_view(MARKETER) is not None

    @bot.handoff.bolt.middleware
    async def slow_submissions(body: dict[str, Any], next: Any) -> Any:  # a listener of this test only
        if body.get("type") == "view_submission":
            await asyncio.sleep(0.3)  # a slow moment: the form is checked after its ack
        return await next()

    monkeypatch.setattr(edge, "ACK_DEADLINE", 0.05)  # Slack's budget, shrunk for the test
    typed = {"Email": "jane@", "Name": "<!channel> Jane", "Source": "Webinar", "Notes for sales": "one\ntwo"}
    reply = await bot.slack.submit(MARKETER, typed)
    assert reply.status == 200 and not reply.errors
    assert bot.fake.open_view(MARKETER) is None  # Slack closed the form at the empty ack
    await bot.flush()  # the listener finishes after its ack, then the outbox sends the DM
    [dm] = bot.fake.dms(MARKETER)
    assert "*Hand over a lead*" in dm.text and "nothing was saved" in dm.text
    assert "• *Email*: Not a valid email address" in dm.text
    # what they typed, escaped, to copy back into the form
    assert "• *Email*: jane@" in dm.text and "• *Name*: &lt;!channel&gt; Jane" in dm.text
    assert "• *Source*: Webinar" in dm.text and "*Notes for sales*:\n>one\n>two" in dm.text
    assert "<!channel>" not in dm.text
    assert await counts(bot) == (0, 0, 1)  # no lead: only the DM's outbox row
