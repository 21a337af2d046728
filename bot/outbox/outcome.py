"""What the sender knows of a claimed row, and what became of an attempt to send it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from bot.domain.outbox import RATELIMITED, Purpose
from bot.storage.models import Outbox

# a rendered row: the Web API method and its arguments
Call = tuple[str, dict[str, Any]]


class Result(Enum):
    SENT = "sent"  # Slack has it: posted now, or found posted by an earlier attempt
    RETRY = "retry"  # try again after `retry_in`; the attempt counts
    WAIT = "wait"  # needs the ts of another row's post (a card, a prompt, an answer): not an attempt
    RELEASE = "release"  # not attempted (stopping, lease nearly over): pending again, untouched
    FAIL = "fail"  # retrying cannot fix it: give up now and tell the admins


@dataclass(frozen=True)
class Outcome:
    result: Result
    retry_in: float | None = None  # seconds, for RETRY and WAIT
    error: str | None = None
    ts: str | None = None
    channel: str | None = None
    # a CRM sync's record: (its ID in the CRM, its page for people), kept for the card's link
    crm_record: tuple[str, str | None] | None = None

    @property
    def ok(self) -> bool:
        return self.result is Result.SENT

    @classmethod
    def sent(
        cls,
        ts: str | None = None,
        channel: str | None = None,
        crm_record: tuple[str, str | None] | None = None,
    ) -> Outcome:
        return cls(Result.SENT, ts=ts, channel=channel, crm_record=crm_record)

    @classmethod
    def retry(cls, seconds: float, error: str) -> Outcome:
        return cls(Result.RETRY, retry_in=seconds, error=error)

    @classmethod
    def wait_for(cls, what: str) -> Outcome:
        return cls(Result.WAIT, retry_in=0.5, error=f"waiting for {what}")

    @classmethod
    def release(cls) -> Outcome:
        return cls(Result.RELEASE)

    @classmethod
    def fail(cls, error: str) -> Outcome:
        return cls(Result.FAIL, error=error)


@dataclass
class Backoff:
    """Exponential backoff with jitter: about 1, 2, 4 … seconds, at most `max_seconds`."""

    max_seconds: float = 300.0
    rng: random.Random = field(default_factory=random.Random)

    def __call__(self, attempts: int) -> float:
        base = min(self.max_seconds, 2.0 ** max(0, attempts - 1))
        return base * self.rng.uniform(0.5, 1.5)


@dataclass(frozen=True)
class RowSnapshot:
    """What the sender needs of a row once its claiming transaction has ended."""

    id: int
    team_id: str
    method: str
    channel_id: str | None
    payload: dict[str, Any]
    purpose: Purpose
    lead_id: int | None
    attempts: int
    created_at: datetime
    last_error: str | None
    ref_table: str | None = None
    ref_id: int | None = None
    lane: int = 3  # bot.domain.outbox.Lane
    rank_at: datetime | None = None  # its place in line: the channel's queue sends the earliest first

    @property
    def may_have_been_sent(self) -> bool:
        # a 429 is Slack saying "not done"; any other earlier attempt (timeout, reset, 5xx, a crash
        # that let the lease run out) may have posted the message
        return self.attempts > 1 and self.last_error != RATELIMITED

    def base_call(self) -> Call:
        """The row's own method and arguments, before any renderer adds to them."""
        args = {k: v for k, v in self.payload.items() if v is not None and k != "render"}
        if self.channel_id:
            args["channel"] = self.channel_id
        return self.method, args

    @classmethod
    def of(cls, row: Outbox) -> RowSnapshot:
        return cls(
            id=row.id,
            team_id=row.team_id,
            method=row.method,
            channel_id=row.channel_id,
            payload=dict(row.payload or {}),
            purpose=Purpose(row.purpose),
            lead_id=row.lead_id,
            attempts=row.attempts,
            created_at=aware(row.created_at),
            last_error=row.last_error,
            ref_table=row.ref_table,
            ref_id=row.ref_id,
            lane=row.lane,
            rank_at=aware(row.rank_at) if row.rank_at is not None else None,
        )


def aware(when: datetime) -> datetime:
    # SQLite hands back naive datetimes; they are UTC
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def short_error(exc: BaseException) -> str:
    """An error for logs and last_error: its type and first line, never a request body."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__
