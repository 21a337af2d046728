"""`/handoff route simulate` as pure logic: the replay, a draft rule replacing its namesake, and
how many leads would land elsewhere."""

from __future__ import annotations

from bot.domain.accounts import AccountIndex, AccountRef
from bot.domain.routing import LeadFacts, RuleSpec
from bot.domain.simulation import PastLead, moved, replay, with_draft


def past(n: int, region: str, day: str = "2026-12-01", company: str | None = None) -> PastLead:
    facts = LeadFacts(
        region=region, segment=None, source=None, campaign=None, score=None, email_domain="x.io"
    )
    return PastLead(facts=facts, company=company, email=f"l{n}@x.io", day=day, week="2026-W49")


EMEA = RuleSpec(id=1, name="EMEA", priority=1, channel_id="C0EMEA", regions=("emea",), reps=("U1", "U2"))
LEADS = [past(n, "emea" if n % 2 else "na") for n in range(10)]


def test_replay_counts_channels_and_reps_and_a_draft_moves_leads() -> None:
    now = replay(LEADS, [EMEA], "C0SALES", accounts=None)
    assert now.channels == {"C0EMEA": 5, "C0SALES": 5} and now.reps == {"U1": 3, "U2": 2}
    draft = RuleSpec(id=None, name="NA", priority=2, channel_id="C0NA", regions=("na",), reps=("U3",))
    after = replay(LEADS, with_draft([EMEA], draft), "C0SALES", accounts=None)
    assert after.channels == {"C0EMEA": 5, "C0NA": 5} and after.reps["U3"] == 5
    assert moved(now, after) == 5


def test_a_draft_replaces_the_rule_of_its_name_and_caps_count_per_day() -> None:
    capped = RuleSpec(
        id=None, name="EMEA", priority=1, channel_id="C0EMEA", regions=("emea",), reps=("U1",), cap_day=2
    )
    rules = with_draft([EMEA], capped)
    assert [r.name for r in rules] == ["EMEA"] and rules[0].cap_day == 2
    two_days = [past(n, "emea", day="2026-12-01" if n < 4 else "2026-12-02") for n in range(8)]
    result = replay(two_days, rules, "C0SALES", accounts=None)
    assert result.reps == {"U1": 4}  # two a day, on two days; the rest to the channel for anyone


def test_the_accounts_owner_first_in_the_replay() -> None:
    index = AccountIndex([AccountRef(id=1, company="Initech Systems", domain=None, owner_id="U9")])
    leads = [past(1, "emea", company="Initech Systems GmbH")]
    assert replay(leads, [EMEA], "C0SALES", accounts=index).reps == {"U9": 1}
