"""`/handoff route add` syntax and the rule model shared with YAML."""

from __future__ import annotations

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.route_syntax import describe, parse_route_add


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
