"""The outbox package's small parts: the renderer registry, outcomes, backoff, the recorder."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain.outbox import RATELIMITED, Purpose
from bot.outbox.outcome import Backoff, Outcome, Result, RowSnapshot
from bot.outbox.recording import Recorder
from bot.outbox.rendering import METADATA_EVENT, Rendered, Renderers, is_ours


def snapshot(row_id: int, purpose: Purpose, **overrides: Any) -> RowSnapshot:
    values: dict[str, Any] = {
        "id": row_id,
        "team_id": "T1",
        "method": "chat.postMessage",
        "channel_id": "C1",
        "payload": {"text": "hi", "blocks": None},
        "purpose": purpose,
        "lead_id": None,
        "attempts": 1,
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        "last_error": None,
    }
    values.update(overrides)
    return RowSnapshot(**values)


class Recording:
    """A renderer that says what it was given."""

    def __init__(self, purposes: frozenset[Purpose], fail: bool = False) -> None:
        self.purposes = purposes
        self.fail = fail
        self.seen: list[list[int]] = []

    async def render(self, rows: Sequence[tuple[RowSnapshot, dict[str, Any]]]) -> Rendered:
        self.seen.append([row.id for row, _ in rows])
        if self.fail:
            raise ConnectionError("database went away")
        return {row.id: (row.method, {**args, "text": f"rendered {row.id}"}) for row, args in rows}

    async def record_sent(self, uow: Any, row: Any, outcome: Outcome) -> None:
        return None


def test_two_renderers_for_one_purpose_are_refused() -> None:
    with pytest.raises(ValueError, match="lead_card"):
        Renderers([Recording(frozenset({Purpose.LEAD_CARD})), Recording(frozenset({Purpose.LEAD_CARD}))])


async def test_rows_without_a_renderer_go_out_as_queued_with_our_mark() -> None:
    renderers = Renderers([Recording(frozenset({Purpose.LEAD_CARD}))])
    calls = await renderers.render(
        [snapshot(7, Purpose.MESSAGE)], on_error=lambda row, exc: Outcome.fail("x")
    )
    method, args = calls[7]  # type: ignore[misc]
    assert method == "chat.postMessage"
    assert args == {
        "text": "hi",  # None values (blocks) are left out
        "channel": "C1",
        "metadata": {"event_type": METADATA_EVENT, "event_payload": {"outbox_id": 7}},
    }
    assert is_ours({"metadata": args["metadata"]}, 7) and not is_ours({"metadata": args["metadata"]}, 8)


async def test_each_renderer_gets_its_rows_in_one_call() -> None:
    lead = Recording(frozenset({Purpose.LEAD_CARD, Purpose.LEAD_THREAD}))
    renderers = Renderers([lead])
    rows = [snapshot(1, Purpose.LEAD_CARD), snapshot(2, Purpose.MESSAGE), snapshot(3, Purpose.LEAD_THREAD)]
    calls = await renderers.render(rows, on_error=lambda row, exc: Outcome.fail("x"))
    assert lead.seen == [[1, 3]]
    assert calls[1][1]["text"] == "rendered 1" and calls[3][1]["text"] == "rendered 3"  # type: ignore[index]
    assert calls[2][1]["text"] == "hi"  # type: ignore[index]


async def test_a_renderer_that_fails_retries_its_rows_and_only_its_rows() -> None:
    renderers = Renderers([Recording(frozenset({Purpose.LEAD_CARD}), fail=True)])
    rows = [snapshot(1, Purpose.LEAD_CARD), snapshot(2, Purpose.MESSAGE)]
    calls = await renderers.render(rows, on_error=lambda row, exc: Outcome.retry(5, type(exc).__name__))
    assert calls[1] == Outcome(Result.RETRY, retry_in=5, error="ConnectionError")
    assert isinstance(calls[2], tuple)


def test_an_update_carries_no_metadata_mark_and_a_429_means_nothing_was_posted() -> None:
    update = snapshot(1, Purpose.LEAD_CARD_UPDATE, method="chat.update")
    assert "metadata" not in update.base_call()[1]
    assert not snapshot(1, Purpose.MESSAGE, attempts=2, last_error=RATELIMITED).may_have_been_sent
    assert snapshot(1, Purpose.MESSAGE, attempts=2, last_error="timeout").may_have_been_sent
    assert not snapshot(1, Purpose.MESSAGE, attempts=1, last_error="timeout").may_have_been_sent


def test_outcomes_say_what_the_recorder_does() -> None:
    assert Outcome.sent("1.2", "C1").ok
    waiting = Outcome.wait_for("the card")
    assert (waiting.result, waiting.error, waiting.ok) == (Result.WAIT, "waiting for the card", False)
    assert Outcome.fail("channel_not_found").retry_in is None
    assert Outcome.release().result is Result.RELEASE


def test_backoff_doubles_with_jitter_up_to_its_cap() -> None:
    backoff = Backoff(max_seconds=8, rng=random.Random(1))
    for attempts, base in [(1, 1), (2, 2), (3, 4), (4, 8), (9, 8)]:
        assert 0.5 * base <= backoff(attempts) <= 1.5 * base


def test_every_purpose_has_a_lane() -> None:
    """A purpose added without a lane would fail at the first row the notifier queues for it."""
    from bot.domain.outbox import PURPOSE_LANE

    assert set(PURPOSE_LANE) == set(Purpose)


class Writes:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    async def __call__(self, results: Sequence[tuple[RowSnapshot, Outcome]]) -> None:
        self.batches.append([row.id for row, _ in results])


async def test_the_recorder_writes_outcomes_that_come_one_by_one_in_one_transaction() -> None:
    """One channel's rows go out one call at a time: their outcomes, added a turn of the loop
    apart, wait for one another and are written together, at once when someone flushes."""
    writes = Writes()
    recorder = Recorder(writes, linger=60)
    for row_id in (1, 2, 3):
        recorder.add(snapshot(row_id, Purpose.MESSAGE), Outcome.sent("1.2", "C1"))
        await asyncio.sleep(0)  # the recorder's task runs: it lingers instead of writing one
    assert writes.batches == []
    await asyncio.wait_for(recorder.flush(), timeout=5)  # not the linger's 60 s
    assert writes.batches == [[1, 2, 3]]


async def test_the_recorder_lingers_only_so_long_and_never_past_a_batch() -> None:
    writes = Writes()
    recorder = Recorder(writes, linger=0.01, batch=3)
    recorder.add(snapshot(1, Purpose.MESSAGE), Outcome.sent("1.2", "C1"))
    assert recorder.task is not None
    await asyncio.wait_for(recorder.task, timeout=5)  # written once the linger is over
    assert writes.batches == [[1]]

    recorder.linger = 60
    for row_id in (2, 3, 4):
        recorder.add(snapshot(row_id, Purpose.MESSAGE), Outcome.sent("1.2", "C1"))
        await asyncio.sleep(0)
    await asyncio.wait_for(recorder.task, timeout=5)  # a full batch does not wait for the linger
    assert writes.batches == [[1], [2, 3, 4]]
