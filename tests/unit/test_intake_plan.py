"""The intake planner as pure logic: duplicates, twins within a batch, routing, round-robin places."""

from __future__ import annotations

from random import Random

from bot.domain.distribution import Pool, pick
from bot.domain.intake_plan import Fate, plan_batch
from bot.domain.lead_input import LeadIn
from bot.domain.routing import RuleSpec

RULE = RuleSpec(
    id=7, name="emea", priority=1, channel_id="C_EMEA", regions=("emea",), reps=("U1", "U2", "U3")
)


def lead(email: str, **kw: object) -> LeadIn:
    return LeadIn.model_validate({"email": email, **kw})


def test_stored_duplicates_twins_new_and_unroutable() -> None:
    batch = [
        (0, lead("old@x.io", external_id="e1")),  # stored under its key
        (1, lead("a@x.io", region="emea")),
        (2, lead("a@x.io", region="emea")),  # twin of 1 (same key)
        (3, lead("b@x.io", region="apac")),  # no rule, no default: nowhere to go
        (4, lead("recent@x.io")),  # stored by email, within the window
    ]
    plans = plan_batch(
        batch,
        stored_by_key={"ext:e1": "L1"},
        recent_by_email={"recent@x.io": "L9"},
        rules=[RULE],
        default_channel=None,
        dedupe_by_email=True,
    )
    assert [p.fate for p in plans] == [
        Fate.DUPLICATE,
        Fate.NEW,
        Fate.DUPLICATE,
        Fate.UNROUTABLE,
        Fate.DUPLICATE,
    ]
    assert plans[0].existing == "L1" and plans[4].existing == "L9"
    assert plans[2].twin == 1 and plans[2].existing is None
    assert plans[1].decision is not None and plans[1].decision.channel_id == "C_EMEA"


def test_same_email_other_source_is_a_twin_only_within_the_window() -> None:
    batch = [(0, lead("a@x.io", source="ads")), (1, lead("a@x.io", source="web"))]
    kw: dict = {"stored_by_key": {}, "recent_by_email": {}, "rules": [], "default_channel": "C_SALES"}
    with_window = plan_batch(batch, dedupe_by_email=True, **kw)
    without = plan_batch(batch, dedupe_by_email=False, **kw)
    assert [p.fate for p in with_window] == [Fate.NEW, Fate.DUPLICATE]
    assert [p.fate for p in without] == [Fate.NEW, Fate.NEW]


def test_a_batch_takes_consecutive_turns_and_skips_away_reps() -> None:
    """Once `assign` (places in a round robin); now the rule's Pool (bot/domain/distribution.py):
    a skipped rep loses the turn, so the available reps strictly alternate (U2 U1 U2 U1, where
    places gave U2 U1 U1 U2)."""
    batch = [(i, lead(f"p{i}@x.io", region="emea")) for i in range(4)]
    plans = plan_batch(
        batch, stored_by_key={}, recent_by_email={}, rules=[RULE], default_channel=None, dedupe_by_email=True
    )
    pool = Pool(rule=RULE, cursor=1)
    assert [pick(pool, {"U3": "away"}, Random(0)).rep for _ in plans] == ["U2", "U1", "U2", "U1"]
    assert all(p.assignee is None for p in plans)  # planning assigns nobody
