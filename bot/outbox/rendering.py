"""Renderers turn claimed rows into Web API calls at send time, registered by message purpose
(build_app injects them), so a card or an answer never shows stale state. A row whose purpose has
no renderer goes out as it was queued."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from bot.domain.outbox import Purpose
from bot.outbox.outcome import Call, Outcome, RowSnapshot
from bot.outbox.pacing import POST_METHOD
from bot.storage.models import Outbox
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# Our mark on every chat.postMessage: after a crash between Slack's "ok" and recording the ts, the
# next attempt finds the message by this and records it instead of posting a second copy.
METADATA_EVENT = "handoff_outbox"

Rendered = dict[int, Call | Outcome]


class Renderer(Protocol):
    purposes: frozenset[Purpose]

    async def render(self, rows: Sequence[tuple[RowSnapshot, dict[str, Any]]]) -> Rendered:
        """Each row's call (its queued arguments completed) or why it cannot go out yet."""
        ...

    async def record_sent(self, uow: UnitOfWork, row: Outbox, outcome: Outcome) -> None:
        """Remember what the post became (e.g. the card's ts on the lead), in the recording
        transaction."""
        ...


class Renderers:
    def __init__(self, renderers: Iterable[Renderer]) -> None:
        self._by_purpose: dict[Purpose, Renderer] = {}
        for renderer in renderers:
            for purpose in renderer.purposes:
                if purpose in self._by_purpose:
                    raise ValueError(f"two renderers for {purpose.value}")
                self._by_purpose[purpose] = renderer

    async def render(
        self, rows: Sequence[RowSnapshot], on_error: Callable[[RowSnapshot, BaseException], Outcome]
    ) -> Rendered:
        calls: Rendered = {}
        groups: dict[int, tuple[Renderer, list[tuple[RowSnapshot, dict[str, Any]]]]] = {}
        for row in rows:
            method, args = row.base_call()
            if method == POST_METHOD and "metadata" not in args:
                args["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"outbox_id": row.id}}
            renderer = self._by_purpose.get(row.purpose)
            if renderer is None:
                calls[row.id] = (method, args)
            else:
                groups.setdefault(id(renderer), (renderer, []))[1].append((row, args))
        for renderer, group in groups.values():
            try:
                calls.update(await renderer.render(group))
            except Exception as exc:  # e.g. the database went away: those rows are retried later
                log.warning("outbox: rendering %d rows failed: %s", len(group), type(exc).__name__)
                for row, _ in group:
                    calls[row.id] = on_error(row, exc)
        return calls

    async def record_sent(self, uow: UnitOfWork, row: Outbox, outcome: Outcome) -> None:
        renderer = self._by_purpose.get(Purpose(row.purpose))
        if renderer is not None:
            await renderer.record_sent(uow, row, outcome)


def is_ours(message: dict[str, Any], row_id: int) -> bool:
    """The message carries our mark for this row."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != METADATA_EVENT:
        return False
    return str((metadata.get("event_payload") or {}).get("outbox_id")) == str(row_id)
