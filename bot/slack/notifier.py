"""Slack writes that follow a state change, queued as outbox rows in the caller's transaction."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block

from bot.storage.models import Lead
from bot.storage.repositories import OutboxRepo

# Purposes tell the sender how to finish a row.
LEAD_CARD = "lead_card"  # post the card, then remember channel + ts on the lead
LEAD_CARD_UPDATE = "lead_card_update"  # chat.update of the card, rendered at send time
LEAD_THREAD = "lead_thread"  # reply in the card's thread
MESSAGE = "message"
ALERT = "alert"  # never alerts about itself
# partnership discussions (bot/slack/discussion_outbox.py finishes these rows)
DISCUSSION_PROMPT = "discussion_prompt"  # post the prompt, then remember its ts
DISCUSSION_THREAD = "discussion_thread"  # reply under a prompt (ref: discussion_prompt)
DISCUSSION_ANSWER = "discussion_answer"  # answer in the prompt's thread, rendered at send time
DISCUSSION_ANSWER_UPDATE = "discussion_answer_update"  # chat.update of an answer (+1 count)
DISCUSSION_PURPOSES = frozenset(
    {DISCUSSION_PROMPT, DISCUSSION_THREAD, DISCUSSION_ANSWER, DISCUSSION_ANSWER_UPDATE}
)
FILE_UPLOAD = "file_upload"  # files_upload_v2 (getUploadURLExternal + completeUploadExternal)


def _blocks(blocks: list[Block] | list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if blocks is None:
        return None
    return [b.to_dict() if isinstance(b, Block) else b for b in blocks]


class Notifier:
    def __init__(self, outbox: OutboxRepo, *, now: datetime, admins: tuple[str, ...] = ()) -> None:
        self.outbox = outbox
        self.now = now
        self.admins = admins

    async def post_lead_card(self, lead: Lead) -> None:
        await self.outbox.add(
            team_id=lead.team_id,
            method="chat.postMessage",
            channel_id=lead.channel_id,
            payload={"render": "lead_card"},
            purpose=LEAD_CARD,
            lead_id=lead.id,
            at=self.now,
        )

    async def refresh_lead_card(self, lead: Lead) -> None:
        await self.outbox.add(
            team_id=lead.team_id,
            method="chat.update",
            channel_id=lead.channel_id,
            payload={"render": "lead_card"},
            purpose=LEAD_CARD_UPDATE,
            lead_id=lead.id,
            at=self.now,
        )

    async def reply_to_lead(
        self, lead: Lead, text: str, blocks: list[Any] | None = None, *, broadcast: bool = False
    ) -> None:
        payload: dict[str, Any] = {"text": text, "blocks": _blocks(blocks)}
        if broadcast:
            payload["reply_broadcast"] = True
        await self.outbox.add(
            team_id=lead.team_id,
            method="chat.postMessage",
            channel_id=lead.channel_id,
            payload=payload,
            purpose=LEAD_THREAD,
            lead_id=lead.id,
            at=self.now,
        )

    async def post(
        self,
        team_id: str,
        channel_id: str,
        text: str,
        blocks: list[Any] | None = None,
        *,
        thread_ts: str | None = None,
        purpose: str = MESSAGE,
        ref_table: str | None = None,
        ref_id: int | None = None,
        lead_id: int | None = None,
    ) -> None:
        payload: dict[str, Any] = {"text": text, "blocks": _blocks(blocks)}
        if thread_ts:
            payload["thread_ts"] = thread_ts
        await self.outbox.add(
            team_id=team_id,
            method="chat.postMessage",
            channel_id=channel_id,
            payload=payload,
            purpose=purpose,
            ref_table=ref_table,
            ref_id=ref_id,
            lead_id=lead_id,
            at=self.now,
        )

    async def dm(self, team_id: str, user_id: str, text: str, blocks: list[Any] | None = None) -> None:
        # chat.postMessage to a user ID lands in the bot's DM with them
        await self.post(team_id, user_id, text, blocks)

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
        await self.outbox.add(
            team_id=team_id,
            method="files.uploadV2",
            channel_id=channel_id,
            payload={
                "filename": filename,
                "title": title,
                "initial_comment": initial_comment,
                "alt_txt": alt_text,
                "content_b64": base64.b64encode(content).decode("ascii"),
            },
            purpose=FILE_UPLOAD,
            at=self.now,
        )

    async def alert_admins(self, team_id: str, text: str) -> None:
        for admin in self.admins:
            await self.post(team_id, admin, text, purpose=ALERT)
