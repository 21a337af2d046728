"""Slack writes that follow a state change, queued as outbox rows in the caller's transaction.
The Notifier is the only writer of outbox rows; `bulk()` gathers a batch's rows into one INSERT."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block

from bot.domain.outbox import PURPOSE_LANE, Lane, OutboxStatus, Purpose, rank_at
from bot.slack.blocks.bulk import LEADS_PER_LINE_MESSAGE
from bot.slack.blocks.serialize import as_dict
from bot.storage.models import Lead, LeadBatch
from bot.storage.repositories import OutboxRepo

POST = "chat.postMessage"
UPDATE = "chat.update"
UPLOAD = "files.uploadV2"
WEBHOOK = "webhook.post"  # not Slack: an HTTP POST to an endpoint (bot/outbox/webhook_delivery.py)
CRM_SYNC = "crm.sync"  # not Slack: the CRM's REST API (bot/outbox/crm_delivery.py)
WEBHOOK_QUEUE = "wh:"  # + endpoint host: one queue (and pacing) per host, not Slack's channels
# the sender renders cards at send time (see bot.outbox.rendering), so they never show stale state
RENDER_AT_SEND = {"render": "lead_card"}


def _blocks(blocks: list[Block] | list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if blocks is None:
        return None
    return [as_dict(b) if isinstance(b, Block) else b for b in blocks]


class Notifier:
    def __init__(
        self,
        outbox: OutboxRepo,
        *,
        now: datetime,
        admins: Sequence[str] | Callable[[str], Awaitable[Sequence[str]]] = (),
    ) -> None:
        """`admins`: who hears alerts; a function of the workspace when each has its own."""
        self.outbox = outbox
        self.now = now
        self.admins = admins
        self._batch: list[dict[str, Any]] | None = None

    @asynccontextmanager
    async def bulk(self) -> AsyncIterator[Notifier]:
        """Rows queued inside are written together, one multi-row INSERT, when the block ends."""
        outer, self._batch = self._batch, []
        try:
            yield self
            rows = self._batch
        finally:
            self._batch = outer
        await self.outbox.add_many(rows)

    async def _queue(
        self,
        *,
        team_id: str,
        method: str,
        channel_id: str | None,
        payload: dict[str, Any],
        purpose: Purpose,
        lead_id: int | None = None,
        ref_table: str | None = None,
        ref_id: int | None = None,
        lane: Lane | None = None,
    ) -> None:
        lane = lane or PURPOSE_LANE[purpose]
        row = {
            "team_id": team_id,
            "method": method,
            "channel_id": channel_id,
            "payload": payload,
            "purpose": purpose.value,
            "lead_id": lead_id,
            "ref_table": ref_table,
            "ref_id": ref_id,
            "status": OutboxStatus.PENDING.value,
            "lane": int(lane),
            "rank_at": rank_at(lane, self.now),
            "attempts": 0,
            "next_attempt_at": self.now,
            "created_at": self.now,
        }
        if self._batch is not None:
            self._batch.append(row)
        else:
            await self.outbox.add(row)

    async def post_lead_card(self, lead: Lead, *, lane: Lane = Lane.SINGLE) -> None:
        """The lead's card; its lane says how urgent (a hot lead, a single one, one of a bulk)."""
        await self._queue(
            team_id=lead.team_id,
            method=POST,
            channel_id=lead.channel_id,
            payload=dict(RENDER_AT_SEND),
            purpose=Purpose.LEAD_CARD,
            lead_id=lead.id,
            lane=lane,
        )

    async def post_batch_summary(self, batch: LeadBatch, *, edit: bool = False) -> None:
        """A bulk batch's summary card, rendered at send time with the batch's counts; `edit`
        updates the posted one (more leads joined). Leads that join while a post or update of it
        still waits need no update of their own: it shows them when it goes (a burst of one-lead
        requests is one update per turn, not one per lead)."""
        if edit and await self.outbox.summary_queued(batch.id):
            return
        await self.refresh_batch_summary(batch.team_id, batch.channel_id, batch.id, edit=edit)

    async def refresh_batch_summary(
        self, team_id: str, channel_id: str, batch_id: int, *, edit: bool = True
    ) -> None:
        await self.render_at_send(
            team_id,
            channel_id,
            purpose=Purpose.BULK_SUMMARY_UPDATE if edit else Purpose.BULK_SUMMARY,
            ref_table="lead_batch",
            ref_id=batch_id,
            edit=edit,
        )

    async def list_in_batch(self, batch: LeadBatch, lead_ids: Sequence[int]) -> None:
        """These leads listed in the summary's thread, each with a Claim: first in the batch's
        thread message still waiting to go, if it has room (a burst's leads arrive one by one),
        then in new messages of LEADS_PER_LINE_MESSAGE."""
        taken = await self.outbox.add_to_queued_lines(batch.id, lead_ids, per_message=LEADS_PER_LINE_MESSAGE)
        rest = list(lead_ids[taken:])
        for start in range(0, len(rest), LEADS_PER_LINE_MESSAGE):
            await self._list(batch, rest[start : start + LEADS_PER_LINE_MESSAGE])

    async def _list(self, batch: LeadBatch, lead_ids: list[int]) -> None:
        await self._queue(
            team_id=batch.team_id,
            method=POST,
            channel_id=batch.channel_id,
            payload={"render": Purpose.BULK_LINES.value, "lead_ids": lead_ids},
            purpose=Purpose.BULK_LINES,
            lead_id=lead_ids[0],
            ref_table="lead_batch",
            ref_id=batch.id,
        )

    async def refresh_batch_line(self, lead: Lead) -> None:
        """chat.update of the thread message that lists this bulk lead (it was claimed)."""
        await self._queue(
            team_id=lead.team_id,
            method=UPDATE,
            channel_id=lead.channel_id,
            payload={"render": Purpose.BULK_LINE_UPDATE.value},
            purpose=Purpose.BULK_LINE_UPDATE,
            lead_id=lead.id,
        )

    async def offer_lead(self, lead: Lead, rep: str, *, lane: Lane = Lane.HOT) -> None:
        """Assign mode: the lead offered to `rep` in a DM with Accept / Pass, rendered at send time."""
        await self._queue(
            team_id=lead.team_id,
            method=POST,
            channel_id=rep,
            payload={"render": Purpose.LEAD_OFFER.value},
            purpose=Purpose.LEAD_OFFER,
            lead_id=lead.id,
            lane=lane,
        )

    async def refresh_offer(self, lead: Lead, rep: str) -> None:
        """chat.update of the DM that offered the lead to `rep` (accepted, or handed on)."""
        await self._queue(
            team_id=lead.team_id,
            method=UPDATE,
            channel_id=rep,
            payload={"render": Purpose.LEAD_OFFER_UPDATE.value},
            purpose=Purpose.LEAD_OFFER_UPDATE,
            lead_id=lead.id,
        )

    async def refresh_lead_card(self, lead: Lead) -> None:
        await self._queue(
            team_id=lead.team_id,
            method=UPDATE,
            channel_id=lead.channel_id,
            payload=dict(RENDER_AT_SEND),
            purpose=Purpose.LEAD_CARD_UPDATE,
            lead_id=lead.id,
        )

    async def reply_to_lead(
        self,
        lead: Lead,
        text: str,
        blocks: list[Any] | None = None,
        *,
        broadcast: bool = False,
        lane: Lane | None = None,
    ) -> None:
        payload: dict[str, Any] = {"text": text, "blocks": _blocks(blocks)}
        if broadcast:
            payload["reply_broadcast"] = True
        await self._queue(
            team_id=lead.team_id,
            method=POST,
            channel_id=lead.channel_id,
            payload=payload,
            purpose=Purpose.LEAD_THREAD,
            lead_id=lead.id,
            lane=lane,
        )

    async def post(
        self,
        team_id: str,
        channel_id: str,
        text: str,
        blocks: list[Any] | None = None,
        *,
        thread_ts: str | None = None,
        purpose: Purpose = Purpose.MESSAGE,
        ref_table: str | None = None,
        ref_id: int | None = None,
        lead_id: int | None = None,
        lane: Lane | None = None,
    ) -> None:
        payload: dict[str, Any] = {"text": text, "blocks": _blocks(blocks)}
        if thread_ts:
            payload["thread_ts"] = thread_ts
        await self._queue(
            team_id=team_id,
            method=POST,
            channel_id=channel_id,
            payload=payload,
            purpose=purpose,
            ref_table=ref_table,
            ref_id=ref_id,
            lead_id=lead_id,
            lane=lane,
        )

    async def render_at_send(
        self,
        team_id: str,
        channel_id: str,
        *,
        purpose: Purpose,
        ref_table: str,
        ref_id: int,
        edit: bool = False,
    ) -> None:
        """A message the sender renders when it goes out (a discussion answer with its current +1
        count); `edit` makes it a chat.update of the message the referenced row posted."""
        await self._queue(
            team_id=team_id,
            method=UPDATE if edit else POST,
            channel_id=channel_id,
            payload={"render": purpose.value},
            purpose=purpose,
            ref_table=ref_table,
            ref_id=ref_id,
        )

    async def signal_card(self, team_id: str, owner_id: str, signal_ids: list[int]) -> None:
        """Customer signals in their owner's DM (one card, or the day's batch), rendered when sent
        so a signal answered meanwhile shows its answer."""
        await self._queue(
            team_id=team_id,
            method=POST,
            channel_id=owner_id,
            payload={"render": Purpose.SIGNAL_CARD.value, "signals": sorted(signal_ids)},
            purpose=Purpose.SIGNAL_CARD,
            ref_table="customer_signal",
            ref_id=min(signal_ids),
        )

    async def refresh_signal_card(self, team_id: str, owner_id: str, card_row_id: int) -> None:
        """After an answer: edit the DM that `card_row_id` posted (its buttons become who answered what)."""
        await self._queue(
            team_id=team_id,
            method=UPDATE,
            channel_id=owner_id,
            payload={"render": Purpose.SIGNAL_CARD_UPDATE.value},
            purpose=Purpose.SIGNAL_CARD_UPDATE,
            ref_table="outbox",
            ref_id=card_row_id,
        )

    async def dm(self, team_id: str, user_id: str, text: str, blocks: list[Any] | None = None) -> None:
        # chat.postMessage to a user ID lands in the bot's DM with them; someone is waiting for it
        await self.post(team_id, user_id, text, blocks, lane=Lane.PERSON)

    async def upload_file(
        self,
        team_id: str,
        channel_id: str,
        *,
        filename: str,
        content: bytes,
        title: str,
        initial_comment: str | None = None,
        alt_text: str | None = None,
    ) -> None:
        """A file shared in a channel; the bytes ride in the row (keep them small: charts, not
        exports). A user ID as channel means the bot's DM with them (the sender opens it)."""
        await self._queue(
            team_id=team_id,
            method=UPLOAD,
            channel_id=channel_id,
            payload={
                "filename": filename,
                "title": title,
                "initial_comment": initial_comment,
                "alt_txt": alt_text,
                "content_b64": base64.b64encode(content).decode("ascii"),
            },
            purpose=Purpose.FILE_UPLOAD,
        )

    async def webhook(self, team_id: str, *, endpoint_id: int, host: str, event_id: int) -> None:
        """One event to one endpoint; signed and sent by the sender, one row per (event, endpoint)."""
        await self._queue(
            team_id=team_id,
            method=WEBHOOK,
            channel_id=(WEBHOOK_QUEUE + host)[:32],
            payload={"endpoint_id": endpoint_id},
            purpose=Purpose.WEBHOOK,
            ref_table="webhook_event",
            ref_id=event_id,
        )

    async def crm_sync(self, lead: Lead, *, crm: str, moment: str) -> None:
        """Bring the CRM's record of this lead up to date (rendered from the lead at send time);
        one queue per CRM, so a lead's moments reach it in order."""
        await self._queue(
            team_id=lead.team_id,
            method=CRM_SYNC,
            channel_id=f"crm:{crm}",
            payload={"crm": crm, "moment": moment},
            purpose=Purpose.CRM_SYNC,
            lead_id=lead.id,
        )

    async def alert_admins(self, team_id: str, text: str) -> None:
        admins = await self.admins(team_id) if callable(self.admins) else self.admins
        for admin in admins:
            await self.post(team_id, admin, text, purpose=Purpose.ALERT)
