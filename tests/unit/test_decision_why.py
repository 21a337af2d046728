"""A decision's why as stored and shown (bot/domain/routing_why.py, bot/slack/why.py): the account's
owner first, a fallback when everyone is out, and a long rule's waiting reps counted, not listed."""

from __future__ import annotations

from random import Random

from bot.domain.accounts import AccountIndex, AccountRef
from bot.domain.distribution import Pool
from bot.domain.routing import LeadFacts, RuleSpec, route
from bot.domain.routing_why import choose
from bot.slack.why import why_text

FACTS = LeadFacts(region=None, segment=None, source=None, campaign=None, score=None, email_domain="acme.com")


def test_thirty_reps_list_the_chosen_the_skipped_and_ten_waiting() -> None:
    reps = tuple(f"U{i:03d}" for i in range(30))
    rule = RuleSpec(id=1, name="All <!here>", priority=1, channel_id="C1", reps=reps)
    decision = route([rule], FACTS, None)
    why = choose(
        decision, pool=Pool(rule), account=None, out=lambda r: "away" if r == "U001" else None, rng=Random(0)
    )
    stored = why.to_json()
    assert [c["outcome"] for c in stored["candidates"][:2]] == ["chosen", "skipped"]
    assert len(stored["candidates"]) == 12 and stored["waiting_more"] == 18
    text = why_text(stored)
    assert "• … and 18 more whose turn it was not" in text and "All &lt;!here&gt;" in text


def test_the_owner_first_unless_out_and_everyone_out_goes_to_the_channel() -> None:
    rule = RuleSpec(id=1, name="R", priority=1, channel_id="C1", reps=("U1", "U2"))
    index = AccountIndex([AccountRef(id=1, company="Acme <b>", domain="acme.com", owner_id="U9")])
    match = index.find(company=None, email="x@acme.com")
    decision = route([rule], FACTS, None)
    owner = choose(decision, pool=Pool(rule), account=match, out=lambda r: None, rng=Random(0))
    assert owner.assignee == "U9" and owner.method == "account"
    assert "*Acme &lt;b&gt;* is <@U9>’s account (matched by email domain acme.com)." in why_text(
        owner.to_json()
    )
    out = choose(decision, pool=Pool(rule), account=match, out=lambda r: "away", rng=Random(0))
    assert out.assignee is None and out.fallback and out.to_json()["account"]["owner_skipped"] == "away"
    text = why_text(out.to_json())
    assert "but they are away" in text and "Everyone was unavailable" in text


def test_no_rule_matched_names_the_rules_checked() -> None:
    rules = [RuleSpec(id=i, name=f"R{i}", priority=i, channel_id="C1", regions=("emea",)) for i in range(25)]
    decision = route(rules, FACTS, "C0SALES")
    why = choose(decision, pool=None, account=None, out=lambda r: None, rng=Random(0)).to_json()
    assert why["checked_count"] == 25 and len(why["checked"]) == 20
    text = why_text(why)
    assert text.startswith("No routing rule matched, so it went to the default sales channel.")
    assert "Rules checked: “R0” (region), “R1” (region)" in text and text.rstrip().endswith("and 5 more")
