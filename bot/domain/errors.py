"""Domain errors: services raise them, the edges (handlers, HTTP routes) translate them."""

from __future__ import annotations


class HandoffError(Exception):
    """Base of every error a user should see explained."""


class NotFound(HandoffError):
    pass


class LeadNotFound(NotFound):
    def __init__(self, lead_id: object) -> None:
        super().__init__(f"lead {lead_id} not found")
        self.lead_id = lead_id


class NothingLeft(HandoffError):
    """Nothing left to take (e.g. "Claim next" on a batch whose leads are all claimed)."""


class NotAllowed(HandoffError):
    """The caller lacks the role for this action (admin, owner, channel member). `why` is for
    the log (e.g. "not a member of C123"); the message is for the person."""

    def __init__(self, message: str = "", *, why: str | None = None) -> None:
        super().__init__(message)
        self.why = why or type(self).__name__


class LeadAlreadyClaimed(HandoffError):
    def __init__(self, owner_id: str | None, status: str | None = None) -> None:
        super().__init__(
            f"already claimed by {owner_id}" if owner_id else f"no longer open to claim ({status})"
        )
        self.owner_id = owner_id
        self.status = status  # what the lead is now, when nobody owns it (e.g. returned)


class IllegalTransition(HandoffError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"cannot go from {current} to {wanted}")
        self.current = current
        self.wanted = wanted


class InvalidInput(HandoffError):
    """Field errors keyed by field name, each a sentence a person can act on."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class Unauthenticated(HandoffError):
    """A lead-API request without acceptable credentials; the message is safe to send back."""
