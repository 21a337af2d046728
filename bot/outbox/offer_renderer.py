"""Assign mode's DMs: the offer rendered from the lead as it is when it goes out (a lead that was
handed on meanwhile says so instead of offering), its updates edit the same DM, and a posted
offer makes the lead visible (posted_at)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.outbox import OFFER_PURPOSES, Purpose
from bot.outbox.outcome import Outcome, RowSnapshot, aware
from bot.outbox.rendering import Rendered
from bot.slack.blocks.offer import offer_message
from bot.slack.blocks.serialize import as_dicts
from bot.storage.models import Outbox
from bot.storage.uow import UnitOfWork


class OfferRenderer:
    purposes = OFFER_PURPOSES

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    async def render(self, rows: Sequence[tuple[RowSnapshot, dict[str, Any]]]) -> Rendered:
        calls: Rendered = {}
        async with UnitOfWork(self.session_factory) as uow:
            leads = await uow.leads.get_many([row.lead_id for row, _ in rows if row.lead_id])
            for row, args in rows:
                lead = leads.get((row.team_id, row.lead_id or 0))
                rep = row.channel_id or ""
                if lead is None:
                    calls[row.id] = Outcome.fail("lead no longer exists")
                    continue
                text, blocks = offer_message(lead, rep)
                args.update(text=text, blocks=as_dicts(blocks))
                if row.purpose is Purpose.LEAD_OFFER_UPDATE:
                    where, sending = await uow.outbox.offer_message(lead.id, rep)
                    if where is None:
                        # the offer has not gone out: it will show the lead as it is then
                        calls[row.id] = Outcome.wait_for("the offer") if sending else Outcome.sent()
                        continue
                    channel, ts = where.split(":", 1)
                    args.pop("metadata", None)
                    args.update(channel=channel, ts=ts)
                calls[row.id] = (row.method, args)
        return calls

    async def record_sent(self, uow: UnitOfWork, row: Outbox, outcome: Outcome) -> None:
        if row.purpose == Purpose.LEAD_OFFER and row.lead_id and outcome.ts:
            await uow.leads.set_visible(row.team_id, row.lead_id, at=aware(row.sent_at or row.created_at))
