"""The outbox's vocabulary: what a queued Slack write is for, where it stands, and the errors
recorded on it that the sender reads back. Stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class Purpose(StrEnum):
    """What a queued write is; the sender finishes each purpose its own way."""

    LEAD_CARD = "lead_card"  # post the card, then remember channel + ts on the lead
    LEAD_CARD_UPDATE = "lead_card_update"  # chat.update of the card, rendered at send time
    LEAD_THREAD = "lead_thread"  # reply in the card's thread
    MESSAGE = "message"
    ALERT = "alert"  # never alerts about itself
    DISCUSSION_PROMPT = "discussion_prompt"  # post the prompt, then remember its ts
    DISCUSSION_THREAD = "discussion_thread"  # reply under a prompt (ref: discussion_prompt)
    DISCUSSION_ANSWER = "discussion_answer"  # answer in the prompt's thread, rendered at send time
    DISCUSSION_ANSWER_UPDATE = "discussion_answer_update"  # chat.update of an answer (+1 count)
    FILE_UPLOAD = "file_upload"  # files_upload_v2 (getUploadURLExternal + completeUploadExternal)
    SETUP_CHECKLIST = "setup_checklist"  # the installer's DM, rendered at send time; updates edit it
    WEBHOOK = "webhook"  # an outbound event to one endpoint (bot/outbox/webhook_delivery.py)
    CRM_SYNC = "crm_sync"  # a lead's state to HubSpot, rendered at send time (bot/outbox/crm_delivery.py)


LEAD_PURPOSES = frozenset({Purpose.LEAD_CARD, Purpose.LEAD_CARD_UPDATE, Purpose.LEAD_THREAD})
DISCUSSION_PURPOSES = frozenset(
    {
        Purpose.DISCUSSION_PROMPT,
        Purpose.DISCUSSION_THREAD,
        Purpose.DISCUSSION_ANSWER,
        Purpose.DISCUSSION_ANSWER_UPDATE,
    }
)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by an instance until its lease runs out
    SENT = "sent"
    FAILED = "failed"  # given up; `/handoff status retry` queues it again


QUEUED = (OutboxStatus.PENDING, OutboxStatus.SENDING)

# last_error values the sender reads back on the next attempt
LEASE_EXPIRED = "lease expired"  # the claiming instance stopped: it may have posted already
RATELIMITED = "ratelimited"  # Slack said "not done": nothing can have been posted
