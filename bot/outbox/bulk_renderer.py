"""Bulk batch rows: the summary card with the batch's counts at send time, the thread messages that
list its leads (each lead as it is when the message goes out), and their updates after a claim.
A posted summary's ts is kept on the batch; a posted list's ts on each lead it lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.outbox import BULK_PURPOSES, QUEUED, Purpose
from bot.outbox.outcome import Outcome, RowSnapshot, aware
from bot.outbox.rendering import Rendered
from bot.slack.blocks.bulk import batch_lines, batch_summary
from bot.slack.blocks.serialize import as_dicts
from bot.storage.models import Lead, LeadBatch, Outbox
from bot.storage.uow import UnitOfWork


async def summary_posting(uow: UnitOfWork, batch_id: int) -> bool:
    """The batch's summary card is still queued (not posted yet, not given up on)."""
    row = await uow.session.scalar(
        select(Outbox.id)
        .where(
            Outbox.ref_table == "lead_batch",
            Outbox.ref_id == batch_id,
            Outbox.purpose == Purpose.BULK_SUMMARY.value,
            Outbox.status.in_(QUEUED),
        )
        .limit(1)
    )
    return row is not None


async def thread_of(uow: UnitOfWork, batch: LeadBatch | None) -> str | Outcome:
    """The ts to reply under for a batch (its summary card), or why not yet."""
    if batch is None:
        return Outcome.fail("the lead's batch no longer exists")
    if batch.message_ts:
        return batch.message_ts
    if await summary_posting(uow, batch.id):
        return Outcome.wait_for("the batch's summary card")
    return Outcome.fail("the batch's summary card was never posted")


async def line_update(
    uow: UnitOfWork, lead: Lead, args: dict[str, Any]
) -> tuple[str, dict[str, Any]] | Outcome:
    """chat.update of the thread message that lists `lead`, rendered from its leads as they are;
    nothing to do while that message has not gone out (it will show them as they are then)."""
    if lead.batch_id is None or lead.line_ts is None:
        return Outcome.sent()
    batch = await uow.batches.get(lead.team_id, lead.batch_id)
    if batch is None:
        return Outcome.sent()
    text, blocks = batch_lines(batch, await uow.batches.line(batch.id, lead.line_ts))
    args.pop("metadata", None)
    args.update(channel=batch.channel_id, ts=lead.line_ts, text=text, blocks=as_dicts(blocks))
    return "chat.update", args


class BulkRenderer:
    purposes = BULK_PURPOSES

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    async def render(self, rows: Sequence[tuple[RowSnapshot, dict[str, Any]]]) -> Rendered:
        calls: Rendered = {}
        async with UnitOfWork(self.session_factory) as uow:
            batches = await uow.batches.get_many([row.ref_id for row, _ in rows if row.ref_id])
            for row, args in rows:
                calls[row.id] = await self._render_one(uow, row, args, batches.get(row.ref_id or 0))
        return calls

    async def _render_one(
        self, uow: UnitOfWork, row: RowSnapshot, args: dict[str, Any], batch: LeadBatch | None
    ) -> tuple[str, dict[str, Any]] | Outcome:
        if row.purpose is Purpose.BULK_LINE_UPDATE:
            lead = await uow.leads.get(row.team_id, row.lead_id or 0)
            return (
                Outcome.fail("lead no longer exists") if lead is None else await line_update(uow, lead, args)
            )
        if batch is None or batch.team_id != row.team_id:
            return Outcome.fail("batch no longer exists")
        if row.purpose is Purpose.BULK_LINES:
            thread = await thread_of(uow, batch)
            if isinstance(thread, Outcome):
                return thread
            ids = [int(i) for i in args.pop("lead_ids", [])]
            leads = await uow.leads.get_many(ids)
            listed = [leads[(row.team_id, i)] for i in ids if (row.team_id, i) in leads]
            text, blocks = batch_lines(batch, listed)
            args.update(thread_ts=thread, text=text, blocks=as_dicts(blocks))
            return row.method, args
        text, blocks = batch_summary(batch, await uow.batches.counts(batch.id))
        args.update(text=text, blocks=as_dicts(blocks))
        if row.purpose is Purpose.BULK_SUMMARY_UPDATE:
            if not batch.message_ts:
                if await summary_posting(uow, batch.id):
                    return Outcome.wait_for("the batch's summary card")
                return Outcome.fail("the batch's summary card was never posted")
            args.pop("metadata", None)
            args.update(channel=batch.channel_id, ts=batch.message_ts)
        return row.method, args

    async def record_sent(self, uow: UnitOfWork, row: Outbox, outcome: Outcome) -> None:
        if not outcome.ts:
            return
        if row.purpose == Purpose.BULK_SUMMARY and row.ref_id:
            await uow.batches.set_message(row.ref_id, outcome.ts)
        elif row.purpose == Purpose.BULK_LINES:
            ids = [int(i) for i in (row.payload or {}).get("lead_ids", [])]
            await uow.batches.set_line(
                row.team_id, ids, line_ts=outcome.ts, at=aware(row.sent_at or row.created_at)
            )
