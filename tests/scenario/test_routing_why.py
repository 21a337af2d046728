"""Routing as people see it (issue 18): "Why here?" tells the rule, the rules checked before it,
every candidate rep and why each was skipped; weights, caps and turns from `/handoff route add`;
everyone out → the channel, never nowhere; a lead of a known account goes to its owner first;
the same why in `/handoff route test`, `GET /api/leads/{id}` and exports."""

from __future__ import annotations

import json

from bot.sandbox import visible_text
from bot.storage.models import Account
from tests.conftest import ADMIN, REP1, REP2, SALES, RunningBot
from tests.scenario.helpers_intake import api

REP3 = "U0REP3"


async def add_rule(bot: RunningBot, text: str) -> str:
    reply = await bot.slack.command(ADMIN, "/handoff", "route add " + text, channel_id=SALES)
    assert "Added rule" in reply.text, reply.text
    return reply.text


async def lead(bot: RunningBot, email: str, **extra: object) -> dict[str, object]:
    status, body, _ = await api(bot, {"email": email, "name": email.split("@")[0].title(), **extra})
    assert status == 201, body
    return body


async def why_here(bot: RunningBot, lead_id: int) -> str:
    """Click "Why here?" on the lead's own card and read the private answer."""
    await bot.flush()
    [card] = [m for m in bot.fake.messages(SALES) if f"#{lead_id}" in visible_text(m.blocks or [])]
    await bot.slack.click(REP1, "Why here?", channel_id=SALES, message_ts=card.ts)
    return bot.fake.ephemerals(REP1)[-1].text


async def lead_api(bot: RunningBot, lead_id: int) -> dict[str, object]:
    status, body, _ = await api(bot, None, method="GET", path=f"/api/leads/{lead_id}")
    assert status == 200, body
    return body


async def test_weights_caps_turns_and_the_why_of_every_candidate(bot: RunningBot) -> None:
    bot.fake.add_user(REP3, name="ray", real_name="Ray Rep")
    bot.fake.channels[SALES].members.add(REP3)
    await add_rule(bot, '"Webinars" channel=#C0SALES source=webinar priority=5')
    added = await add_rule(
        bot,
        f'"Inbound <!here>" channel=<#{SALES}|sales> reps=<@{REP1}|rob>*2,<@{REP2}>,<@{REP3}> cap=2/day priority=10',
    )
    assert f"reps=<@{REP1}>*2,<@{REP2}>,<@{REP3}>" in added and "cap=2/day" in added
    await bot.slack.command(REP2, "/handoff", "away", channel_id=SALES)

    # turn order rob, rita, ray, rob; rita is away; two a day each at most
    posted = [await lead(bot, f"l{n}@corp.io", source="web") for n in range(5)]
    assert [p.get("suggested_owner") for p in posted] == [REP1, REP3, REP1, REP3, None]
    bodies = [await lead_api(bot, int(p["id"])) for p in posted]  # type: ignore[arg-type]
    why = await why_here(bot, int(bodies[0]["id"]))  # type: ignore[arg-type]
    assert "Rule “Inbound &lt;!here&gt;” (priority 10) matched" in why and "<!here>" not in why
    assert "Checked before it: “Webinars” (source)" in why
    assert "Reps take turns in a strict order (cap 2/day each)" in why
    assert f"• <@{REP1}> — *takes it*: next in turn (1 today, 1 this week, weight 2)" in why
    assert f"• <@{REP2}> — skipped: away" in why
    assert f"• <@{REP3}> — not this time: a later turn" in why

    # the fifth: rob and ray have had two each today, rita is away: the channel, for anyone
    last = await why_here(bot, int(bodies[4]["id"]))  # type: ignore[arg-type]
    assert f"• <@{REP1}> — skipped: cap reached (2/day)" in last
    assert f"• <@{REP3}> — skipped: cap reached (2/day)" in last
    assert "Everyone was unavailable, so the card went to the channel for anyone to claim." in last
    routing = bodies[4]["routing"]
    assert isinstance(routing, dict)
    assert routing["rule"]["name"] == "Inbound <!here>" and routing["checked_count"] == 1  # type: ignore[index]
    assert [(c["user"], c["outcome"]) for c in routing["candidates"]] == [  # type: ignore[index]
        (REP1, "skipped"),
        (REP2, "skipped"),
        (REP3, "skipped"),
    ]
    assert routing["fallback"] and routing["assignee"] is None

    # the admins' fairness report counts who was skipped for a cap
    report = (await bot.slack.command(ADMIN, "/handoff", "route fairness 1", channel_id=SALES)).text
    assert f"• <@{REP1}>: offered 2 · claimed 0 · passed 0 · capped 2" in report
    assert f"• <@{REP3}>: offered 2 · claimed 0 · passed 0 · capped 1" in report

    # the next day the caps start again; the turn goes on from where it was
    bot.clock.advance(hours=24)
    await bot.slack.command(REP2, "/handoff", "back", channel_id=SALES)
    assert (await lead(bot, "next-day@corp.io")).get("suggested_owner") in (REP1, REP2)


async def test_route_test_shows_the_same_why_without_taking_a_turn(bot: RunningBot) -> None:
    await add_rule(
        bot, f'"Inbound" channel=<#{SALES}|sales> reps=<@{REP1}>,<@{REP2}> distribute=least_loaded'
    )
    for _ in range(2):
        text = (await bot.slack.command(ADMIN, "/handoff", "route test email=a@b.io", channel_id=SALES)).text
        assert "The rep with the fewest leads for their weight takes it, ties drawn at random:" in text
        assert "*takes it*: fewest leads for their weight (a tie with 1 other, drawn at random)" in text
    async with bot.handoff.uow() as uow:
        assert await uow.routing.loads(bot.fake.team_id, 1) == []  # nothing taken by a test


async def test_a_known_accounts_lead_goes_to_its_owner_first(bot: RunningBot) -> None:
    bot.fake.add_user(REP3, name="ray", real_name="Ray Rep")
    bot.fake.channels[SALES].members.add(REP3)
    now = bot.clock.now()
    async with bot.handoff.uow() as uow:
        uow.session.add_all(
            [
                Account(
                    team_id=bot.fake.team_id, key="domain:acme.com", company="Acme Inc.", domain="acme.com",
                    owner_id=REP3, won_leads=1, created_at=now, updated_at=now,
                ),
                Account(
                    team_id=bot.fake.team_id, key="name:globex industries", company="Globex Industries",
                    domain=None, owner_id=REP2, won_leads=1, created_at=now, updated_at=now,
                ),
            ]
        )  # fmt: skip
        await uow.commit()
    await add_rule(bot, f'"Inbound" channel=<#{SALES}|sales> reps=<@{REP1}>,<@{REP2}> mode=assign')

    # a subdomain of the account's domain: Ray owns Acme, though he is not in the rule's reps
    body = await lead(bot, "jane@eu.acme.com", company="ACME GmbH")
    assert body["suggested_owner"] == REP3
    await bot.flush()
    assert f"offered to <@{REP3}> by account (its owner)" in bot.fake.messages(SALES)[-1].text
    routing = (await lead_api(bot, int(body["id"])))["routing"]  # type: ignore[arg-type]
    assert routing["method"] == "account"  # type: ignore[index]
    assert routing["account"]["matched_by"] == "email domain eu.acme.com"  # type: ignore[index]

    # a typo in a long company name, from a free-mail address: Rita's Globex
    body = await lead(bot, "boss@gmail.com", company="Globex Industires Ltd")
    assert body["suggested_owner"] == REP2
    # free mail alone never matches: the rule's turn (Rob)
    assert (await lead(bot, "someone@gmail.com")).get("suggested_owner") == REP1

    # the owner is away: the rule's reps, and the why says so
    await bot.slack.command(REP3, "/handoff", "away", channel_id=SALES)
    text = (
        await bot.slack.command(ADMIN, "/handoff", "route test email=bob@acme.com", channel_id=SALES)
    ).text
    assert (
        f"*Acme Inc.* is <@{REP3}>’s account (matched by email domain acme.com), but they are away." in text
    )
    body = await lead(bot, "bob@acme.com")
    assert body.get("suggested_owner") in (REP1, REP2)
    await bot.slack.command(REP3, "/handoff", "back", channel_id=SALES)
    text = (
        await bot.slack.command(ADMIN, "/handoff", "route test email=bob@acme.com", channel_id=SALES)
    ).text
    assert f"*Acme Inc.* is <@{REP3}>’s account (matched by email domain acme.com)." in text
    assert f"• <@{REP3}> — *takes it*: owns the account" in text

    # a rule that says owner_first=no routes by its reps only
    await bot.slack.command(ADMIN, "/handoff", 'route remove "Inbound"', channel_id=SALES)
    await add_rule(bot, f'"Inbound" channel=<#{SALES}|sales> reps=<@{REP1}> owner_first=no')
    assert (await lead(bot, "carl@acme.com")).get("suggested_owner") == REP1


async def test_the_lead_export_carries_the_why(bot: RunningBot) -> None:
    await add_rule(bot, f'"Inbound" channel=<#{SALES}|sales> reps=<@{REP1}>')
    await lead(bot, "x@corp.io")
    from bot.services.export import ExportKind, export_to_string

    async with bot.handoff.uow() as uow:
        text, count = await export_to_string(
            uow,
            bot.fake.team_id,
            ExportKind.LEADS,
            "json",
            since=None,
            now=bot.clock.now(),
            tz=bot.handoff.settings.tz,
        )
    [row] = json.loads(text)
    assert count == 1 and row["routing"]["assignee"] == REP1 and row["routing"]["rule"]["name"] == "Inbound"


async def refresh_profiles(bot: RunningBot) -> None:
    from bot.jobs import find_job, run_job

    job = find_job("rep_profiles")
    assert job is not None
    await run_job(bot.handoff, job, bot.clock.now())


async def test_out_of_office_status_and_working_hours_in_the_reps_own_zone(bot: RunningBot) -> None:
    from datetime import UTC, datetime, timedelta

    bot.fake.add_user(REP3, name="ray", real_name="Ray Rep", tz="Europe/Berlin")
    bot.fake.channels[SALES].members.add(REP3)
    bot.fake.users[REP1]["tz"] = "Asia/Tokyo"
    bot.fake.set_status(REP2, text="<!channel> OOO till Monday", emoji="")
    bot.clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))  # a Tuesday: midnight in Tokyo
    await add_rule(bot, f'"Inbound" channel=<#{SALES}|sales> reps=<@{REP1}>,<@{REP2}>,<@{REP3}> hours=yes')
    await refresh_profiles(bot)
    async with bot.handoff.uow() as uow:
        member = await uow.members.get(bot.fake.team_id, REP1)
        assert member is not None and member.tz == "Asia/Tokyo" and member.profile_at is not None

    body = await lead(bot, "a@corp.io")
    assert body["suggested_owner"] == REP3
    why = await why_here(bot, int(body["id"]))  # type: ignore[arg-type]
    assert f"• <@{REP1}> — skipped: outside working hours (00:00 Asia/Tokyo)" in why
    assert f"• <@{REP2}> — skipped: out of office (status “&lt;!channel&gt; OOO till Monday”)" in why
    assert "<!channel>" not in why

    # the status is cleared; the next refresh (a quarter of an hour later) sees it
    bot.fake.set_status(REP2)
    bot.clock.advance(timedelta(minutes=16))
    await refresh_profiles(bot)
    assert (await lead(bot, "b@corp.io"))["suggested_owner"] == REP2
    # a status with an expiry in the past says nothing
    bot.fake.set_status(REP3, emoji=":palm_tree:", expiration=int(bot.clock.now().timestamp()) - 1)
    bot.clock.advance(timedelta(minutes=16))
    await refresh_profiles(bot)
    assert (await lead(bot, "c@corp.io"))["suggested_owner"] == REP3


async def test_simulate_a_draft_and_the_fairness_report(bot: RunningBot) -> None:
    await add_rule(bot, f'"Inbound" channel=<#{SALES}|sales> reps=<@{REP1}>,<@{REP2}>')
    ids = [int((await lead(bot, f"s{n}@corp.io"))["id"]) for n in range(6)]  # type: ignore[arg-type]
    await bot.flush()
    [card] = [m for m in bot.fake.messages(SALES) if f"#{ids[0]}" in visible_text(m.blocks or [])]
    await bot.slack.click(REP1, "Claim", channel_id=SALES, message_ts=card.ts)

    draft = f'"Inbound" channel=<#{SALES}|sales> reps=<@{REP1}|rob>*2,<@{REP2}>'
    text = (await bot.slack.command(ADMIN, "/handoff", f"route simulate 6 {draft}", channel_id=SALES)).text
    assert "*The last 6 leads replayed: the rules as they are → with the draft “Inbound”*" in text
    assert f"• <@{REP1}>: 3 → 4" in text and f"• <@{REP2}>: 3 → 2" in text
    assert f"• <#{SALES}>: 6 (same)" in text
    assert "3 of 6 leads would go somewhere else. Nothing was saved" in text
    listing = (await bot.slack.command(ADMIN, "/handoff", "route list", channel_id=SALES)).text
    assert "*2" not in listing  # the draft was not saved

    plain = (await bot.slack.command(ADMIN, "/handoff", "route simulate", channel_id=SALES)).text
    assert "*The last 6 leads replayed through the rules as they are*" in plain
    for bad, says in (
        ("route simulate 0", "between 1 and 5000"),
        ('route simulate 5 "Draft" channel=nowhere', "channel"),
    ):
        assert says in (await bot.slack.command(ADMIN, "/handoff", bad, channel_id=SALES)).text
    refused = await bot.slack.command(REP1, "/handoff", "route simulate 5", channel_id=SALES)
    assert "Only Handoff admins" in refused.text

    report = (await bot.slack.command(ADMIN, "/handoff", "route fairness", channel_id=SALES)).text
    assert "*Routing fairness per rep*" in report
    assert f"• <@{REP1}>: offered 3 · claimed 1 · passed 0 · capped 0" in report
    assert f"• <@{REP2}>: offered 3 · claimed 0 · passed 0 · capped 0" in report
    assert (
        "weeks" in (await bot.slack.command(ADMIN, "/handoff", "route fairness lots", channel_id=SALES)).text
    )


async def test_a_passed_lead_goes_on_by_the_same_rules_skipping_an_out_of_office_rep(bot: RunningBot) -> None:
    bot.fake.add_user(REP3, name="ray", real_name="Ray Rep")
    bot.fake.channels[SALES].members.add(REP3)
    bot.fake.set_status(REP2, text="Vacationing", emoji=":palm_tree:")
    await add_rule(bot, f'"Inbound" channel=<#{SALES}|sales> reps=<@{REP1}>,<@{REP2}>,<@{REP3}> mode=assign')
    await refresh_profiles(bot)
    body = await lead(bot, "pass@corp.io")
    assert body["suggested_owner"] == REP1
    await bot.flush()
    await bot.slack.click(REP1, "Pass")
    await bot.flush()
    assert bot.fake.dms(REP2) == []  # on holiday by their Slack status
    assert bot.fake.dms(REP3), "the lead went on to Ray"
    assert (await lead_api(bot, int(body["id"])))["suggested_owner"] == REP3  # type: ignore[arg-type]


async def test_time_off_set_ahead_skips_a_rep_on_those_days_only(bot: RunningBot) -> None:
    from datetime import UTC, datetime, timedelta

    bot.clock.set(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    await add_rule(bot, f'"Inbound" channel=<#{SALES}|sales> reps=<@{REP1}>,<@{REP2}>')
    reply = await bot.slack.command(REP1, "/handoff", "away 2026-12-02..2026-12-03", channel_id=SALES)
    assert "You are away 2026-12-02 to 2026-12-03" in reply.text
    for bad, says in (
        ("away 2026-12-03..2026-12-02", "before the first"),
        ("away next week", "write the days off as 2026-12-24..2026-12-31"),
        (f"away <@{REP2}> 2026-12-05", "Only admins"),
    ):
        assert says in (await bot.slack.command(REP1, "/handoff", bad, channel_id=SALES)).text
    assert (await lead(bot, "d1@corp.io"))["suggested_owner"] == REP1  # the 1st: still in
    bot.clock.advance(timedelta(days=1))
    body = await lead(bot, "d2@corp.io")
    assert body["suggested_owner"] == REP2
    assert f"• <@{REP1}> — skipped: time off (until 2026-12-03)" in await why_here(bot, int(body["id"]))  # type: ignore[arg-type]
    bot.clock.advance(timedelta(days=2))
    assert (await lead(bot, "d3@corp.io"))["suggested_owner"] == REP1  # the 4th: back
    reply = await bot.slack.command(
        ADMIN, "/handoff", f"away <@{REP2}|rita> until 2026-12-10", channel_id=SALES
    )
    assert f"<@{REP2}> is away 2026-12-04 to 2026-12-10" in reply.text
    await bot.slack.command(ADMIN, "/handoff", f"back <@{REP2}>", channel_id=SALES)
    async with bot.handoff.uow() as uow:
        member = await uow.members.get(bot.fake.team_id, REP2)
        assert member is not None and member.away_until is None and not member.away


async def test_the_new_doors_escape_what_they_echo_and_refuse_clearly(bot: RunningBot) -> None:
    now = bot.clock.now()
    async with bot.handoff.uow() as uow:
        uow.session.add(
            Account(
                team_id=bot.fake.team_id, key="name:channel corp", company="<!channel> Corp", domain=None,
                owner_id=REP2, won_leads=1, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        await uow.commit()
    await add_rule(bot, f'"Inbound" channel=<#{SALES}|sales> reps=<@{REP1}>')
    text = (
        await bot.slack.command(
            ADMIN, "/handoff", "route test company=&lt;!channel&gt;_Corp email=x@gmail.com", channel_id=SALES
        )
    ).text
    assert "<!channel>" not in text
    text = (
        await bot.slack.command(ADMIN, "/handoff", 'route test company="<!channel> Corp"', channel_id=SALES)
    ).text
    assert f"is <@{REP2}>’s account (matched by company name “&lt;!channel&gt; Corp”)" in text
    assert "<!channel>" not in text

    draft = f'route simulate 5 "&lt;!here&gt; draft" channel=<#{SALES}|sales> reps=<@{REP2}>'
    text = (await bot.slack.command(ADMIN, "/handoff", draft, channel_id=SALES)).text
    assert "<!here>" not in text and ("&lt;!here&gt; draft" in text or "no leads" in text)
    for command, says in (
        ("route simulate 999999", "between 1 and 5000"),
        ("route fairness 99", "between 1 and 12"),
        (f'route add "W" channel=#C0SALES reps=<@{REP1}>*2*3', "not a person"),
        (f'route add "W" channel=#C0SALES reps=<@{REP1}> cap=99999999/day', "write cap=10/day"),
        (f'route add "W" channel=#C0SALES reps=<@{REP1}> distribute=fastest', "distribute"),
    ):
        reply = (await bot.slack.command(ADMIN, "/handoff", command, channel_id=SALES)).text
        assert says in reply, (command, reply)
    async with bot.handoff.uow() as uow:
        assert [r.name for r in await uow.rules.all(bot.fake.team_id)] == ["Inbound"]  # nothing half-added


async def test_an_sla_reminder_mentions_only_reps_who_can_take_it_now(bot: RunningBot) -> None:
    from datetime import timedelta

    from tests.scenario.test_sla import reminders, tick

    await add_rule(bot, f'"Inbound" channel=<#{SALES}|sales> reps=<@{REP1}>,<@{REP2}>')
    bot.fake.set_status(REP2, text="Out of office", emoji=":palm_tree:")
    await refresh_profiles(bot)
    await lead(bot, "sla@corp.io")
    await bot.flush()
    await tick(bot, bot.clock.now() + timedelta(minutes=31))
    [reminder] = reminders(bot)
    assert f"<@{REP1}>" in reminder and f"<@{REP2}>" not in reminder


async def test_editing_a_rules_reps_keeps_everyones_counts_and_a_new_rep_gets_no_flood(
    bot: RunningBot,
) -> None:
    from random import Random

    from sqlalchemy import select

    from bot.storage.models import RepLoad

    bot.handoff.rng = Random(4)
    bot.fake.add_user(REP3, name="ray", real_name="Ray Rep")
    bot.fake.channels[SALES].members.add(REP3)
    base = f'"Inbound" channel=<#{SALES}|sales> distribute=least_loaded reps='
    await add_rule(bot, base + f"<@{REP1}>,<@{REP2}>")
    first = [(await lead(bot, f"e{n}@corp.io"))["suggested_owner"] for n in range(6)]
    assert sorted(first) == [REP1] * 3 + [REP2] * 3

    reply = await bot.slack.command(
        ADMIN, "/handoff", "route edit " + base + f"<@{REP1}>,<@{REP2}>,<@{REP3}>", channel_id=SALES
    )
    assert "is now" in reply.text and "keep their counts" in reply.text, reply.text
    # Ray joins at the current share: one lead in three from now on, not the next six
    after = [(await lead(bot, f"f{n}@corp.io"))["suggested_owner"] for n in range(6)]
    assert sorted(after) == sorted([REP1, REP2, REP3] * 2), after

    # Rita is taken out and put back: her counts were kept all along
    await bot.slack.command(
        ADMIN, "/handoff", "route edit " + base + f"<@{REP1}>,<@{REP3}>", channel_id=SALES
    )
    await bot.slack.command(
        ADMIN, "/handoff", "route edit " + base + f"<@{REP1}>,<@{REP2}>,<@{REP3}>", channel_id=SALES
    )
    async with bot.handoff.uow() as uow:
        totals = {r.user_id: r.total for r in await uow.session.scalars(select(RepLoad))}
    assert totals == {REP1: 5, REP2: 5, REP3: 2}
    missing = await bot.slack.command(
        ADMIN, "/handoff", 'route edit "Nope" channel=#C0SALES', channel_id=SALES
    )
    assert "There is no rule “Nope”" in missing.text


async def test_yaml_carries_weights_caps_and_distribution(
    bot: RunningBot, tmp_path, monkeypatch, database_url
) -> None:
    import asyncio

    import yaml

    from bot.cli import main

    await add_rule(
        bot,
        f'"Inbound" channel=<#{SALES}|sales> reps=<@{REP1}>*3,<@{REP2}> cap=5/day distribute=least_loaded hours=yes',
    )
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", bot.fake.bot_token)
    monkeypatch.setenv("SLACK_API_URL", bot.fake.base_url)
    out = tmp_path / "rules.yaml"
    assert await asyncio.to_thread(main, ["routes", "export", str(out)]) == 0
    [rule] = yaml.safe_load(out.read_text())["rules"]
    assert rule["reps"] == [REP1, REP2] and rule["weights"] == {REP1: 3}
    assert (rule["cap_day"], rule["distribute"], rule["hours"], rule["owner_first"]) == (
        5,
        "least_loaded",
        True,
        True,
    )

    rule.pop("weights")
    rule["reps"] = [f"{REP1}*2", REP2]
    rule["cap_week"] = 20
    out.write_text(yaml.safe_dump({"rules": [rule]}))
    assert await asyncio.to_thread(main, ["routes", "import", str(out)]) == 0
    listing = (await bot.slack.command(ADMIN, "/handoff", "route list", channel_id=SALES)).text
    assert f"reps=<@{REP1}>*2,<@{REP2}>" in listing and "cap=5/day" in listing and "cap=20/week" in listing

    rule["reps"] = [f"{REP1}*20"]
    out.write_text(yaml.safe_dump({"rules": [rule]}))
    assert await asyncio.to_thread(main, ["routes", "import", str(out)]) == 1  # a weight of 20: refused whole
