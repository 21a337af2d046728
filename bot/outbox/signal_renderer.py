"""Customer signals in the owner's DM, rendered at send time from the signals as they are: a
signal answered before its card went out shows its answer; an answer later edits the same
message (chat.update of the post the update row names), its buttons replaced by who answered what."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.outbox import OutboxStatus, Purpose
from bot.outbox.notifier import UPDATE
from bot.outbox.outcome import Outcome, RowSnapshot
from bot.outbox.rendering import Rendered
from bot.slack.blocks.serialize import as_dicts
from bot.slack.blocks.signals import signal_message
from bot.storage.models import CustomerSignal, Outbox
from bot.storage.uow import UnitOfWork


class SignalRenderer:
    purposes = frozenset({Purpose.SIGNAL_CARD, Purpose.SIGNAL_CARD_UPDATE})

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    async def render(self, rows: Sequence[tuple[RowSnapshot, dict[str, Any]]]) -> Rendered:
        calls: Rendered = {}
        async with UnitOfWork(self.session_factory) as uow:
            for row, args in rows:
                args.pop("render", None)
                ids = args.pop("signals", None)
                if row.method == UPDATE:
                    post = await uow.outbox.get(row.ref_id) if row.ref_id is not None else None
                    if (
                        post is None
                        or post.team_id != row.team_id
                        or post.status == OutboxStatus.FAILED.value
                    ):
                        calls[row.id] = Outcome.fail("the signal card was never posted")
                        continue
                    if post.result_ts is None:
                        calls[row.id] = Outcome.wait_for("the signal card")
                        continue
                    args["channel"], args["ts"] = post.result_channel, post.result_ts
                    ids = (post.payload or {}).get("signals")
                signals = await _signals(uow, row.team_id, ids or [])
                if not signals:
                    calls[row.id] = Outcome.fail("its signals are gone")
                    continue
                companies: dict[int, str] = {}
                for signal in signals:
                    if signal.account_id not in companies:
                        account = await uow.retention.account(row.team_id, signal.account_id)
                        companies[signal.account_id] = (account.company or account.key) if account else "?"
                text, blocks = signal_message(signals, companies)
                args["text"], args["blocks"] = text, as_dicts(blocks)
                calls[row.id] = (row.method, args)
        return calls

    async def record_sent(self, uow: UnitOfWork, row: Outbox, outcome: Outcome) -> None:
        return None


async def _signals(uow: UnitOfWork, team_id: str, ids: Sequence[int]) -> list[CustomerSignal]:
    found = [await uow.retention.signal(team_id, int(i)) for i in ids]
    return [s for s in found if s is not None]
