"""Routing rules from Slack (`/handoff route ...`, away/back) and as YAML (`handoff routes ...`)."""

from __future__ import annotations

import asyncio

import yaml

from bot.cli import main
from tests.conftest import ADMIN, REP1, REP2, SALES, RunningBot
from tests.scenario.helpers_intake import api

ADD = (
    '"EMEA enterprise" channel=<#C0EMEA|emea-sales> region=emea segment=enterprise score>=70 '
    "reps=<@U0REP1|rob>,<@U0REP2|rita> priority=10 hot=<!subteam^S0HOT|@hot>:80 manager=<@U0ADMIN|ada>"
)


async def test_non_admins_are_refused(bot: RunningBot) -> None:
    reply = await bot.slack.command(REP1, "/handoff", "route list", channel_id=SALES)
    assert "Only Handoff admins" in reply.text
    reply = await bot.slack.command(REP1, "/handoff", "route add " + ADD, channel_id=SALES)
    assert "Only Handoff admins" in reply.text
    async with bot.handoff.uow() as uow:
        assert await uow.rules.all(bot.fake.team_id) == []


async def test_add_list_test_route_round_robin_away_hot_and_remove(bot: RunningBot) -> None:
    bot.fake.add_channel("C0EMEA", name="emea-sales", members=[REP1, REP2])
    reply = await bot.slack.command(ADMIN, "/handoff", "route add " + ADD, channel_id=SALES)
    assert "Added rule" in reply.text and "“EMEA enterprise”" in reply.text, reply.text
    reply = await bot.slack.command(ADMIN, "/handoff", "route add " + ADD, channel_id=SALES)
    assert "already exists" in reply.text
    reply = await bot.slack.command(ADMIN, "/handoff", 'route add "Bad" channel=sales', channel_id=SALES)
    assert "channel" in reply.text

    listing = (await bot.slack.command(ADMIN, "/handoff", "route list", channel_id=SALES)).text
    assert "EMEA enterprise" in listing and "<#C0EMEA>" in listing and "score>=70" in listing
    assert "<@U0REP1>,<@U0REP2>" in listing and "hot=<!subteam^S0HOT>:80" in listing

    test = (
        await bot.slack.command(
            ADMIN,
            "/handoff",
            "route test region=EMEA segment=enterprise score=85 email=a@b.com",
            channel_id=SALES,
        )
    ).text
    assert (
        "goes to <#C0EMEA>" in test
        and "EMEA enterprise" in test
        and f"Next in the rotation: <@{REP1}>" in test
    )
    test = (await bot.slack.command(ADMIN, "/handoff", "route test region=na", channel_id=SALES)).text
    assert "<#C0SALES>" in test and "No routing rule matched" in test

    # round robin: REP1, then REP2 — unless REP2 is away
    reply = await bot.slack.command(REP2, "/handoff", "away", channel_id=SALES)
    assert "You are away" in reply.text
    owners = []
    for n in range(3):
        _, body, _ = await api(
            bot, {"email": f"l{n}@corp.com", "region": "emea", "segment": "enterprise", "score": 90}
        )
        owners.append(body["suggested_owner"])
    assert owners == [REP1, REP1, REP1]
    await bot.slack.command(REP2, "/handoff", "back", channel_id=SALES)
    owners = []
    for n in range(3, 5):
        _, body, _ = await api(
            bot, {"email": f"l{n}@corp.com", "region": "emea", "segment": "enterprise", "score": 90}
        )
        owners.append(body["suggested_owner"])
    assert set(owners) == {REP1, REP2}
    await bot.flush()
    cards = bot.fake.messages("C0EMEA")
    assert len(cards) == 5
    hot_notes = bot.fake.thread("C0EMEA", cards[0].ts)
    assert hot_notes and "<!subteam^S0HOT>" in hot_notes[0].text

    reply = await bot.slack.command(REP1, "/handoff", f"away <@{REP2}>", channel_id=SALES)
    assert "Only admins" in reply.text
    reply = await bot.slack.command(ADMIN, "/handoff", f"away <@{REP2}|rita>", channel_id=SALES)
    assert f"<@{REP2}> is away" in reply.text

    reply = await bot.slack.command(ADMIN, "/handoff", 'route remove "EMEA enterprise"', channel_id=SALES)
    assert "Removed rule" in reply.text
    reply = await bot.slack.command(ADMIN, "/handoff", 'route remove "EMEA enterprise"', channel_id=SALES)
    assert "no rule" in reply.text
    _, body, _ = await api(
        bot, {"email": "after@corp.com", "region": "emea", "segment": "enterprise", "score": 90}
    )
    assert body["channel_id"] == SALES


async def test_rule_names_with_markup_are_escaped(bot: RunningBot) -> None:
    await bot.slack.command(
        ADMIN, "/handoff", 'route add "&lt;!channel&gt; team" channel=#C0SALES', channel_id=SALES
    )
    listing = (await bot.slack.command(ADMIN, "/handoff", "route list", channel_id=SALES)).text
    assert "&lt;!channel&gt; team" in listing and "<!channel>" not in listing


async def test_routes_yaml_export_and_import(bot: RunningBot, tmp_path, monkeypatch, database_url) -> None:
    await bot.slack.command(ADMIN, "/handoff", "route add " + ADD, channel_id=SALES)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", bot.fake.bot_token)
    monkeypatch.setenv("SLACK_API_URL", bot.fake.base_url)
    out = tmp_path / "rules.yaml"
    assert await asyncio.to_thread(main, ["routes", "export", str(out)]) == 0
    doc = yaml.safe_load(out.read_text())
    [rule] = doc["rules"]
    assert rule["name"] == "EMEA enterprise" and rule["channel"] == "C0EMEA" and rule["reps"] == [REP1, REP2]
    assert rule["hot_usergroup"] == "S0HOT" and rule["hot_score"] == 80 and rule["score_min"] == 70

    rule["priority"] = 3
    doc["rules"].append({"name": "Webinars", "channel": "C0SALES", "sources": ["Webinar"]})
    out.write_text(yaml.safe_dump(doc))
    assert await asyncio.to_thread(main, ["routes", "import", str(out)]) == 0
    async with bot.handoff.uow() as uow:
        rules = {r.name: r for r in await uow.rules.all(bot.fake.team_id)}
    assert rules["EMEA enterprise"].priority == 3 and rules["Webinars"].sources == ["webinar"]

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump({"rules": [{"name": "Only", "channel": "C0X"}, {"name": "Broken", "channel": "nope"}]})
    )
    assert await asyncio.to_thread(main, ["routes", "import", "--replace", str(bad)]) == 1
    async with bot.handoff.uow() as uow:
        assert len(await uow.rules.all(bot.fake.team_id)) == 2  # all or nothing

    only = tmp_path / "only.yaml"
    only.write_text(yaml.safe_dump({"rules": [{"name": "Only", "channel": "C0X"}]}))
    assert await asyncio.to_thread(main, ["routes", "import", "--replace", str(only)]) == 0
    async with bot.handoff.uow() as uow:
        assert [r.name for r in await uow.rules.all(bot.fake.team_id)] == ["Only"]
