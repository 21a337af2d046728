"""`/handoff route add` syntax and the rule model shared with YAML."""

from __future__ import annotations

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.route_syntax import describe, parse_route_add, validate_rule


def test_the_documented_example_with_bare_ids() -> None:
    rule = parse_route_add(
        '"EMEA enterprise" channel=#C0123 region=emea segment=enterprise score>=70 '
        "reps=@U1,@U2 priority=10 hot=@S123:80 manager=@U9"
    )
    assert rule.name == "EMEA enterprise" and rule.channel == "C0123" and rule.priority == 10
    assert rule.regions == ["emea"] and rule.segments == ["enterprise"]
    assert (rule.score_min, rule.score_max) == (70, None)
    assert rule.reps == ["U1", "U2"] and rule.manager == "U9"
    assert (rule.hot_usergroup, rule.hot_score) == ("S123", 80)


def test_slack_escaped_forms_and_smart_quotes() -> None:
    rule = parse_route_add(
        "“NA mid” channel=<#C0NA|na-sales> regions=NA,LATAM domain=@acme.com,beta.io score=40-69 "
        "reps=<@U0REP1|rob>,<@U0REP2> hot=<!subteam^S0HOT|@hot-squad>:60 manager=<@U0MGR|boss>"
    )
    assert rule.name == "NA mid" and rule.channel == "C0NA"
    assert rule.regions == ["na", "latam"] and rule.email_domains == ["acme.com", "beta.io"]
    assert (rule.score_min, rule.score_max) == (40, 69)
    assert rule.reps == ["U0REP1", "U0REP2"] and rule.hot_usergroup == "S0HOT" and rule.manager == "U0MGR"


def test_describe_round_trips() -> None:
    rule = parse_route_add('"X" channel=#C1 source=webinar score=10-20 reps=@U1 hot=@S1:90 priority=3')
    assert parse_route_add(describe(rule)) == rule


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("channel=#C1", "name"),
        ('"A" "B" channel=#C1', "name"),
        ('"A"', "channel"),
        ('"A" channel=sales', "channel"),
        ('"A" channel=#C1 colour=red', "colour"),
        ('"A" channel=#C1 score>=high', "score"),
        ('"A" channel=#C1 score>=170', "score_min"),
        ('"A" channel=#C1 score=80-20', "rule"),
        ('"A" channel=#C1 reps=rob', "reps"),
        ('"A" channel=#C1 hot=@S1', "hot"),
        ('"A" channel=#C1 priority=first', "priority"),
    ],
)
def test_mistakes_name_the_setting(text: str, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_route_add(text)
    assert field in exc.value.errors, exc.value.errors


def test_weights_caps_and_distribution_round_trip() -> None:

    rule = parse_route_add(
        '"Inbound" channel=#C0SALES reps=<@U0ROB|rob>*2,@U0RITA cap=10/day cap=40/week '
        "distribute=least_loaded catchup=yes hours=yes owner_first=no"
    )
    assert rule.reps == ["U0ROB", "U0RITA"] and rule.weights == {"U0ROB": 2}
    assert (rule.cap_day, rule.cap_week, rule.distribute) == (10, 40, "least_loaded")
    assert rule.catch_up and rule.hours and not rule.owner_first
    text = describe(rule)
    assert "reps=<@U0ROB>*2,<@U0RITA>" in text and "cap=10/day" in text and "cap=40/week" in text
    assert parse_route_add(text.replace("<@", "@").replace("<#", "#").replace(">", "")) == rule


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('"X" channel=#C1 reps=@U1*11', "weights"),
        ('"X" channel=#C1 reps=@U1*0', "weights"),
        ('"X" channel=#C1 cap=10/day', "rule"),
        ('"X" channel=#C1 reps=@U1 cap=ten/day', "cap"),
        ('"X" channel=#C1 reps=@U1 cap=10/month', "cap"),
        ('"X" channel=#C1 reps=@U1 cap=0/day', "cap_day"),
        ('"X" channel=#C1 reps=@U1 cap=50/day cap=10/week', "rule"),
        ('"X" channel=#C1 reps=@U1 distribute=random', "distribute"),
        ('"X" channel=#C1 reps=@U1 hours=maybe', "hours"),
        ('"X" channel=#C1 reps=<!channel>*2', "rule"),
    ],
)
def test_bad_distribution_settings_say_what_to_fix(text: str, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_route_add(text)
    assert field in caught.value.errors, caught.value.errors


def test_yaml_weights_must_name_the_rules_reps() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_rule({"name": "X", "channel": "C1", "reps": ["U1"], "weights": {"U2": 3}})
    assert "rule" in caught.value.errors
    assert validate_rule({"name": "X", "channel": "C1", "reps": ["U1"], "weights": {"U1": 1}}).weights is None


def test_quoted_values_with_spaces() -> None:
    rule = parse_route_add('"Paid" channel=#C1 source="Paid search",webinar campaign="Q4 push"')
    assert rule.sources == ["paid search", "webinar"] and rule.campaigns == ["q4 push"]


def test_a_rules_own_escalation_round_trips_and_workspace_means_none() -> None:
    rule = parse_route_add('"R" channel=#C1 reps=@U1 escalation=reassign')
    assert rule.escalation == "reassign"
    assert "escalation=reassign" in describe(rule)
    assert parse_route_add(describe(rule)).escalation == "reassign"
    assert parse_route_add('"R" channel=#C1 escalation=workspace').escalation is None
    assert "escalation" not in describe(parse_route_add('"R" channel=#C1'))
    with pytest.raises(InvalidInput) as refused:
        parse_route_add('"R" channel=#C1 escalation=boss')
    assert "escalation" in refused.value.errors
