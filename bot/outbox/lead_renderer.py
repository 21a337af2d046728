"""Lead rows: the card is rendered from the lead as it is when the row goes out; replies in the
card's thread wait for the card; a posted card's channel and ts are kept on the lead."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.outbox import LEAD_PURPOSES, Purpose
from bot.outbox.bulk_renderer import line_update, thread_of
from bot.outbox.outcome import Outcome, RowSnapshot, aware
from bot.outbox.rendering import Rendered
from bot.slack.blocks.lead_card import lead_card
from bot.slack.blocks.serialize import as_dicts
from bot.storage.models import Lead, Outbox, RoutingRule
from bot.storage.uow import UnitOfWork

CARD_PURPOSES = frozenset({Purpose.LEAD_CARD, Purpose.LEAD_CARD_UPDATE})


async def _crm_state(
    uow: UnitOfWork, rows: Sequence[RowSnapshot]
) -> dict[tuple[str, int], tuple[list[tuple[str, str]], bool]]:
    """Per card to render: the (CRM, URL) of its lead's synced records, and whether a CRM write
    for it is still queued or failing (two queries for the whole batch)."""
    by_team: dict[str, list[int]] = {}
    for row in rows:
        if row.lead_id is not None:
            by_team.setdefault(row.team_id, []).append(row.lead_id)
    state: dict[tuple[str, int], tuple[list[tuple[str, str]], bool]] = {}
    for team_id, lead_ids in by_team.items():
        records = await uow.crm_records.for_leads(team_id, lead_ids)
        pending = await uow.crm_records.unsynced(lead_ids)
        for lead_id in set(lead_ids):
            links = [(r.crm, r.url) for r in records.get(lead_id, []) if r.url]
            state[(team_id, lead_id)] = (links, lead_id in pending)
    return state


class LeadRenderer:
    purposes = LEAD_PURPOSES

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], *, crm: bool = False) -> None:
        """`crm`: a CRM sync is configured, so cards show its links and "CRM sync pending"."""
        self.session_factory = session_factory
        self.crm = crm

    async def render(self, rows: Sequence[tuple[RowSnapshot, dict[str, Any]]]) -> Rendered:
        calls: Rendered = {}
        with_lead = [(row, args) for row, args in rows if row.lead_id is not None]
        for row, args in rows:
            if row.lead_id is None:
                calls[row.id] = (row.method, args)
        if not with_lead:
            return calls
        # all of a batch's rows in one transaction: two queries load every lead and rule they need
        async with UnitOfWork(self.session_factory) as uow:
            leads = await uow.leads.get_many([row.lead_id for row, _ in with_lead if row.lead_id])
            rules = await uow.rules.get_many([lead.rule_id for lead in leads.values() if lead.rule_id])
            crm = (
                await _crm_state(uow, [row for row, _ in with_lead if row.purpose in CARD_PURPOSES])
                if self.crm
                else {}
            )
            labels: dict[str, dict[str, str]] = {}
            for row, args in with_lead:
                if row.team_id not in labels:
                    labels[row.team_id] = await uow.settings.reason_labels(row.team_id)
                lead = leads.get((row.team_id, row.lead_id or 0))  # scoped by workspace
                rule = rules.get(lead.rule_id) if lead is not None and lead.rule_id else None
                calls[row.id] = await self._render_one(
                    uow, row, args, lead, rule, labels[row.team_id], crm.get((row.team_id, row.lead_id or 0))
                )
        return calls

    async def _render_one(
        self,
        uow: UnitOfWork,
        row: RowSnapshot,
        args: dict[str, Any],
        lead: Lead | None,
        rule: RoutingRule | None,
        reasons: dict[str, str],
        crm: tuple[list[tuple[str, str]], bool] | None = None,
    ) -> tuple[str, dict[str, Any]] | Outcome:
        if lead is None:
            return Outcome.fail("lead no longer exists")
        if lead.batch_id is not None and lead.message_ts is None:
            # a lead listed in a bulk batch's thread: its card (once claimed) and its replies go in
            # that thread, an update of its card is an update of the message listing it
            if row.purpose is Purpose.LEAD_CARD_UPDATE:
                return await line_update(uow, lead, args)
            thread = await thread_of(uow, await uow.batches.get(lead.team_id, lead.batch_id))
            if isinstance(thread, Outcome):
                return thread
            args["thread_ts"] = thread
            if row.purpose is Purpose.LEAD_THREAD:
                args["channel"] = lead.channel_id
                return row.method, args
        elif row.purpose is not Purpose.LEAD_CARD and lead.message_ts is None:
            # the card is not posted yet: wait for it unless it can never come
            if await uow.outbox.pending_card_post(lead.id) is not None:
                return Outcome.wait_for("the card")
            return Outcome.fail("the lead's card was never posted")
        if row.purpose is Purpose.LEAD_THREAD:
            args["channel"] = lead.channel_id
            args["thread_ts"] = lead.message_ts
            return row.method, args
        links, pending = crm or ([], False)
        text, blocks = lead_card(
            lead, rule_name=rule.name if rule else None, reasons=reasons, crm_links=links, crm_pending=pending
        )
        args.update(text=text, blocks=as_dicts(blocks))
        if row.purpose is Purpose.LEAD_CARD_UPDATE:
            args["channel"], args["ts"] = lead.channel_id, lead.message_ts
            args.pop("metadata", None)
        return row.method, args

    async def record_sent(self, uow: UnitOfWork, row: Outbox, outcome: Outcome) -> None:
        if row.purpose == Purpose.LEAD_CARD and row.lead_id and outcome.ts:
            await uow.leads.set_message(
                row.team_id,
                row.lead_id,
                channel_id=outcome.channel or row.channel_id or "",
                ts=outcome.ts,
                at=aware(row.sent_at or row.created_at),
            )
