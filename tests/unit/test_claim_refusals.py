"""What a too-late Claim says: who has the lead, or, when nobody does, what became of it."""

from __future__ import annotations

from bot import messages
from bot.domain.errors import LeadAlreadyClaimed
from bot.handlers.interactions import explain


def test_a_claim_on_a_lead_someone_owns_names_the_owner() -> None:
    assert explain(LeadAlreadyClaimed("U2", "claimed"), user_id="U1") == messages.ALREADY_CLAIMED.format(
        owner="<@U2>"
    )


def test_a_claim_on_a_returned_lead_says_it_went_back_to_marketing_not_that_nobody_claimed_it() -> None:
    text = explain(LeadAlreadyClaimed(None, "returned"), user_id="U1")
    assert "nobody" not in text
    assert "no longer open to claim" in text and "Returned to marketing" in text
