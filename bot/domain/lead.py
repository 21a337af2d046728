"""The lead's lifecycle: statuses, the moves between them, and who may make them."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.errors import IllegalTransition


class Status(StrEnum):
    NEW = "new"  # posted, waiting for a claim
    CLAIMED = "claimed"  # a rep owns it, no verdict yet
    ACCEPTED = "accepted"  # sales-accepted (SQL)
    CONTACTED = "contacted"
    MEETING_BOOKED = "meeting_booked"
    OPPORTUNITY = "opportunity"
    WON = "won"
    LOST = "lost"
    REJECTED = "rejected"  # sales said no, with a reason
    RETURNED = "returned"  # "Not for us": handed back to marketing before a claim

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Status.NEW: "New",
    Status.CLAIMED: "Claimed",
    Status.ACCEPTED: "Accepted",
    Status.CONTACTED: "Contacted",
    Status.MEETING_BOOKED: "Meeting booked",
    Status.OPPORTUNITY: "Opportunity",
    Status.WON: "Won",
    Status.LOST: "Lost",
    Status.REJECTED: "Rejected",
    Status.RETURNED: "Returned to marketing",
}

# The sales stages after acceptance, in order; a rep may skip ahead but never go back.
STAGES: tuple[Status, ...] = (Status.CONTACTED, Status.MEETING_BOOKED, Status.OPPORTUNITY, Status.WON)
ACCEPTED_LIKE = frozenset({Status.ACCEPTED, Status.CONTACTED, Status.MEETING_BOOKED, Status.OPPORTUNITY})
CLOSED = frozenset({Status.WON, Status.LOST, Status.REJECTED, Status.RETURNED})
OPEN_FOR_OWNER = frozenset({Status.CLAIMED}) | ACCEPTED_LIKE

_ALLOWED: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.CLAIMED, Status.RETURNED}),
    Status.CLAIMED: frozenset({Status.NEW, Status.ACCEPTED, Status.REJECTED}),
    Status.ACCEPTED: frozenset(
        {Status.CONTACTED, Status.MEETING_BOOKED, Status.OPPORTUNITY, Status.WON, Status.LOST}
    ),
    Status.CONTACTED: frozenset({Status.MEETING_BOOKED, Status.OPPORTUNITY, Status.WON, Status.LOST}),
    Status.MEETING_BOOKED: frozenset({Status.OPPORTUNITY, Status.WON, Status.LOST}),
    Status.OPPORTUNITY: frozenset({Status.WON, Status.LOST}),
    Status.WON: frozenset(),
    Status.LOST: frozenset(),
    Status.REJECTED: frozenset(),
    Status.RETURNED: frozenset(),
}

# Timestamp column set when a lead enters a status (first time only).
ENTERED_AT_COLUMN: dict[Status, str] = {
    Status.CLAIMED: "claimed_at",
    Status.ACCEPTED: "accepted_at",
    Status.REJECTED: "rejected_at",
    Status.CONTACTED: "contacted_at",
    Status.MEETING_BOOKED: "meeting_at",
    Status.OPPORTUNITY: "opportunity_at",
    Status.WON: "won_at",
    Status.LOST: "lost_at",
}


def can_move(current: str, wanted: str) -> bool:
    return Status(wanted) in _ALLOWED[Status(current)]


def check_move(current: str, wanted: str) -> None:
    if not can_move(current, wanted):
        raise IllegalTransition(current, wanted)


def next_stages(current: str) -> list[Status]:
    """Stage buttons to offer after acceptance (Lost is offered separately)."""
    status = Status(current)
    if status not in ACCEPTED_LIKE:
        return []
    return [s for s in STAGES if s in _ALLOWED[status]]


def parse_stage(text: str) -> Status | None:
    """Accept what a person types: 'meeting', 'meeting booked', 'meeting_booked', 'won'..."""
    key = text.strip().lower().replace("-", " ").replace("_", " ")
    aliases = {
        "contacted": Status.CONTACTED,
        "meeting": Status.MEETING_BOOKED,
        "meeting booked": Status.MEETING_BOOKED,
        "opportunity": Status.OPPORTUNITY,
        "opp": Status.OPPORTUNITY,
        "won": Status.WON,
        "lost": Status.LOST,
    }
    return aliases.get(key)
