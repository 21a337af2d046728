"""What a lead's owner should do next, from its status."""

from __future__ import annotations

from bot.domain.lead import Status

_NEXT = {
    Status.NEW: "claim it",
    Status.CLAIMED: "accept or reject",
    Status.ACCEPTED: "make contact",
    Status.CONTACTED: "book a meeting",
    Status.MEETING_BOOKED: "hold the meeting, then move it to opportunity",
    Status.OPPORTUNITY: "close it: won or lost",
}


def next_action(status: str) -> str | None:
    """None for closed leads: nothing is left to do."""
    try:
        return _NEXT.get(Status(status))
    except ValueError:
        return None
