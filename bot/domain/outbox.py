"""The outbox's vocabulary: what a queued Slack write is for, where it stands, and the errors
recorded on it that the sender reads back. Stored as their string values."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import IntEnum, StrEnum


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
    BULK_SUMMARY = "bulk_summary"  # a batch's summary card, then remember its ts (ref: lead_batch)
    BULK_SUMMARY_UPDATE = "bulk_summary_update"  # chat.update of it: more leads joined the batch
    BULK_LINES = "bulk_lines"  # some of a batch's leads listed in the summary's thread
    BULK_LINE_UPDATE = "bulk_line_update"  # chat.update of the thread message that lists a lead
    LEAD_OFFER = "lead_offer"  # assign mode: the lead offered to one rep by DM (Accept / Pass)
    LEAD_OFFER_UPDATE = "lead_offer_update"  # chat.update of that DM (accepted, handed on)
    WEBHOOK = "webhook"  # an outbound event to one endpoint (bot/outbox/webhook_delivery.py)
    CRM_SYNC = "crm_sync"  # a lead's state to HubSpot or Salesforce, rendered at send time (bot/outbox/crm_delivery.py)
    SIGNAL_CARD = (
        "signal_card"  # customer signals in the owner's DM (one, or the day's batch), rendered at send
    )
    SIGNAL_CARD_UPDATE = "signal_card_update"  # chat.update of it once a signal is answered (ref: outbox)


LEAD_PURPOSES = frozenset({Purpose.LEAD_CARD, Purpose.LEAD_CARD_UPDATE, Purpose.LEAD_THREAD})
OFFER_PURPOSES = frozenset({Purpose.LEAD_OFFER, Purpose.LEAD_OFFER_UPDATE})
BULK_PURPOSES = frozenset(
    {Purpose.BULK_SUMMARY, Purpose.BULK_SUMMARY_UPDATE, Purpose.BULK_LINES, Purpose.BULK_LINE_UPDATE}
)
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


class Lane(IntEnum):
    """Which queued write goes first on a channel: lower lanes first, first in first out within a
    lane. A row's place is its `rank_at` = created_at + the lane's head start (`LANE_DELAY`), so a
    row of a lower lane waits at most that long behind newer rows of the lanes above: aging, and
    a bulk import is never starved."""

    PERSON = 1  # someone is waiting for it: a card update after a click, a reply, a DM, an alert
    HOT = 2  # a hot lead's card: score at or above the rule's hot_score (or the default), "high"
    SINGLE = 3  # other single leads, scheduled messages
    BULK = 4  # leads that arrived in bulk: an API batch or burst, a CSV import


# head start of each lane over the next: how long a row may wait behind newer rows of lanes above
LANE_DELAY: dict[Lane, timedelta] = {
    Lane.PERSON: timedelta(0),
    Lane.HOT: timedelta(seconds=30),
    Lane.SINGLE: timedelta(minutes=2),
    Lane.BULK: timedelta(minutes=10),
}

# Where and how urgently a transaction queued rows, told to the sender after its commit: a row
# for a channel whose queue is full, in a lane that waits its turn, needs no claiming pass yet.
QueuedFor = tuple[str | None, Lane]
# rows made due some other way (failed ones queued again): worth a pass whatever the queues hold
ANY_QUEUE: QueuedFor = (None, Lane.PERSON)


# the lane of each purpose unless the notifier is told otherwise (a card's lane follows its lead)
PURPOSE_LANE: dict[Purpose, Lane] = {
    Purpose.LEAD_CARD: Lane.SINGLE,
    Purpose.LEAD_CARD_UPDATE: Lane.PERSON,
    Purpose.LEAD_THREAD: Lane.PERSON,
    Purpose.MESSAGE: Lane.SINGLE,  # a DM (Notifier.dm) is Lane.PERSON
    Purpose.ALERT: Lane.PERSON,
    Purpose.DISCUSSION_PROMPT: Lane.SINGLE,
    Purpose.DISCUSSION_THREAD: Lane.SINGLE,
    Purpose.DISCUSSION_ANSWER: Lane.PERSON,
    Purpose.DISCUSSION_ANSWER_UPDATE: Lane.PERSON,
    Purpose.FILE_UPLOAD: Lane.SINGLE,
    Purpose.BULK_SUMMARY: Lane.SINGLE,  # one card for many leads: the way in to all of them
    Purpose.BULK_SUMMARY_UPDATE: Lane.BULK,  # a count, edited as a burst grows: a share of chat.update
    Purpose.BULK_LINES: Lane.BULK,
    Purpose.BULK_LINE_UPDATE: Lane.PERSON,  # after a claim
    Purpose.LEAD_OFFER: Lane.HOT,  # one rep's DM: the lead waits for that one person
    Purpose.LEAD_OFFER_UPDATE: Lane.PERSON,
    Purpose.SETUP_CHECKLIST: Lane.PERSON,
    Purpose.WEBHOOK: Lane.SINGLE,  # not Slack: paced per endpoint host (bot/outbox/webhook_delivery.py)
    Purpose.CRM_SYNC: Lane.SINGLE,  # the installer, setting Handoff up, reads it as they go
    Purpose.SIGNAL_CARD: Lane.PERSON,  # a DM, like Notifier.dm
    Purpose.SIGNAL_CARD_UPDATE: Lane.PERSON,  # after a click
}


def rank_at(lane: Lane, created_at: datetime) -> datetime:
    """A row's place in its channel's queue (earlier goes first)."""
    return created_at + LANE_DELAY[lane]
