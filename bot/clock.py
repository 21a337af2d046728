"""Time as a dependency: the app asks a Clock, tests move a FrozenClock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def pause(self, seconds: float) -> None:
        """Let other work run for `seconds` (a background job's duty cycle)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def pause(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)).astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)

    async def pause(self, seconds: float) -> None:
        await asyncio.sleep(0)  # a turn of the loop; no time passes unless told
