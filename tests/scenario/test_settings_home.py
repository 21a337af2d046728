"""Admins configure Handoff from App Home → Settings: each edit is a form with inline errors, takes
effect at the next lead / SLA pass / prompt on every instance, says where each value comes from,
can be reset, and is kept in `/handoff settings history`. Nobody else may change anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app
from bot.domain.lead_input import parse_lead
from bot.ids import ActionId
from bot.jobs import JOBS, run_job
from bot.outbox.pacing import Pacer
from bot.sandbox import visible_text
from bot.services import digest as digest_service
from bot.services.discussions import run_scheduled_prompts, thresholds
from bot.services.intake import submit_lead
from bot.services.teams import side_of
from bot.storage.models import SettingAudit, WorkspaceSetting
from tests.conftest import ADMIN, MARKETER, PARTNERSHIP, REP1, REP2, SALES, RunningBot
from tests.scenario.test_card_and_claim import add_lead
from tests.scenario.test_sla import add_rule, reminders, thread, tick
from tests.scenario.test_verdicts import claimed_lead, options_of

EMEA = "C0EMEA"
SATURDAY = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
MONDAY_9 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- helpers


async def open_settings(bot: RunningBot, user: str = ADMIN, page: str | None = None) -> str:
    """Open Home, click Settings (then the page's button): the visible text of the Home tab."""
    await bot.slack.app_home_opened(user)
    await bot.slack.click(user, "Settings", home=True)
    if page:
        await bot.slack.click(user, page, home=True)
    home = bot.fake.home(user)
    assert home is not None
    return visible_text(home)


async def edit(bot: RunningBot, key: str, values: dict[str, object], *, user: str = ADMIN):  # type: ignore[no-untyped-def]
    """Click Edit beside a setting on the open Settings page and submit the form."""
    await bot.slack.click(user, "Edit", home=True, block_id=f"setting_{key}")
    return await bot.slack.submit(user, values)


async def stored(bot: RunningBot, key: str) -> object:
    team = await bot.handoff.default_team_id()
    async with bot.handoff.uow() as uow:
        return await uow.settings.get(team, key)


async def audit_count(bot: RunningBot) -> int:
    async with bot.handoff.uow() as uow:
        return int(await uow.session.scalar(select(func.count(SettingAudit.id))) or 0)


def line_of(text: str, label: str) -> str:
    return next(line for line in text.split("\n") if line.startswith(f"*{label}*"))


# --------------------------------------------------------------------------- the view


async def test_admin_opens_settings_from_home_and_sees_where_each_value_comes_from(bot: RunningBot) -> None:
    text = await open_settings(bot)
    assert "Settings · Channels & people" in text and "Page 1 of 5" in text
    assert (
        line_of(text, "Sales channel")
        == f"*Sales channel*: <#{SALES}> · _environment (HANDOFF_SALES_CHANNEL)_"
    )
    assert line_of(text, "Sales user group") == "*Sales user group*: — · _default_"
    sizes = []
    for page in ("Time & calendar", "SLAs", "Leads & reasons", "Digest & discussions", "Channels & people"):
        await bot.slack.click(ADMIN, page, home=True)
        sizes.append(len(bot.fake.home(ADMIN)["blocks"]))
    text = visible_text(bot.fake.home(ADMIN))
    assert "Settings · Channels & people" in text
    assert max(sizes) <= 100
    await bot.slack.click(ADMIN, "SLAs", home=True)
    text = visible_text(bot.fake.home(ADMIN))
    assert line_of(text, "Reminder after (minutes)").startswith("*Reminder after (minutes)*: 30 · _default_")
    assert line_of(text, "Escalation mode").startswith("*Escalation mode*: DM the rule's manager")
    await bot.slack.click(ADMIN, "← Home", home=True)
    assert "Shared targets" in visible_text(bot.fake.home(ADMIN))


async def test_a_rep_sees_no_settings_and_forged_clicks_and_submissions_are_refused(bot: RunningBot) -> None:
    await bot.slack.app_home_opened(REP1)
    assert "[Settings]" not in visible_text(bot.fake.home(REP1))
    # REP1 replays the admin's Settings button and Edit click
    await open_settings(bot)
    before = bot.fake.home(REP1)
    admin_home = bot.fake.home(ADMIN)
    assert admin_home is not None
    reply = await bot.slack.send_raw(
        _forged_click(bot, REP1, admin_home, ActionId.SETTINGS_EDIT.value, "sales_channel"),
        content_type="application/x-www-form-urlencoded",
    )
    assert reply.status == 200
    assert "Only Handoff admins" in bot.fake.ephemerals(REP1)[-1].text
    assert bot.fake.open_view(REP1) is None and bot.fake.home(REP1) == before
    # a forged submission of the admin's form, as REP1
    await bot.slack.click(ADMIN, "Edit", home=True, block_id="setting_sales_channel")
    form = bot.fake.open_view(ADMIN)
    assert form is not None
    bot.fake.add_channel(EMEA, name="emea-sales", members=[ADMIN])
    reply = await bot.slack.submit(REP1, {"Sales channel": EMEA}, view_id=form["id"])
    assert "Only Handoff admins" in reply.errors["setting_value"]
    assert await stored(bot, "sales_channel") is None and await audit_count(bot) == 0
    refusal = (await bot.slack.command(REP1, "/handoff", "settings history")).text
    assert "Only Handoff admins" in refusal


def _forged_click(bot: RunningBot, user: str, view: dict, action_id: str, value: str) -> str:
    import json
    from urllib.parse import urlencode

    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": bot.fake.team_id},
        "api_app_id": bot.fake.app_id,
        "token": "x",
        "trigger_id": bot.fake.issue_trigger(user),
        "team": {"id": bot.fake.team_id, "domain": "test"},
        "container": {"type": "view", "view_id": view["id"]},
        "view": view,
        "actions": [
            {"action_id": action_id, "block_id": f"setting_{value}", "value": value, "type": "button",
             "text": {"type": "plain_text", "text": "Edit"}, "action_ts": "1"}
        ],
        "response_url": bot.fake.issue_response_url(channel_id=SALES, user_id=user),
    }  # fmt: skip
    return urlencode({"payload": json.dumps(payload)})


# --------------------------------------------------------------------------- channels, two instances


async def test_a_new_sales_channel_takes_the_next_lead_on_every_instance(
    bot: RunningBot, engine: AsyncEngine
) -> None:
    bot.fake.add_channel(EMEA, name="emea-sales", members=[REP1, ADMIN])
    other = build_app(bot.handoff.settings, engine=engine, clock=bot.clock, pacer=Pacer.unlimited())
    try:
        await open_settings(bot)
        reply = await edit(bot, "sales_channel", {"Sales channel": EMEA})
        assert reply.errors is None or reply.errors == {}
        assert bot.fake.open_view(ADMIN) is None  # the form closed
        text = visible_text(bot.fake.home(ADMIN))
        assert line_of(text, "Sales channel") == f"*Sales channel*: <#{EMEA}> · _set in Slack_"
        # the second instance, which has never read the setting, routes its next lead there
        team = await other.default_team_id()
        async with other.open_context(team) as ctx:
            data = parse_lead({"email": "ann@beta.io", "name": "Ann", "company": "Beta"})
            result = await submit_lead(ctx, data, origin="api")
        assert result.lead.channel_id == EMEA
        await other.sender.drain()
        assert "Ann · Beta" in visible_text(bot.fake.messages(EMEA)[0].blocks)
        assert bot.fake.messages(SALES) == []
    finally:
        await other.close()
    history = (await bot.slack.command(ADMIN, "/handoff", "settings history")).text
    assert f"<@{ADMIN}> *Sales channel*: <#{SALES}> (environment) → <#{EMEA}>" in history


async def test_reset_goes_back_to_the_environment_and_is_recorded(bot: RunningBot) -> None:
    bot.fake.add_channel(EMEA, name="emea-sales", members=[ADMIN])
    await open_settings(bot)
    await edit(bot, "sales_channel", {"Sales channel": EMEA})
    await bot.slack.click(ADMIN, "Edit", home=True, block_id="setting_sales_channel")
    await bot.slack.submit(ADMIN, {"Reset": True})
    text = visible_text(bot.fake.home(ADMIN))
    assert "_environment (HANDOFF_SALES_CHANNEL)_" in line_of(text, "Sales channel")
    assert await stored(bot, "sales_channel") is None
    await add_lead(bot)
    assert len(bot.fake.messages(SALES)) == 1
    history = (await bot.slack.command(ADMIN, "/handoff", "settings history")).text
    lines = history.split("\n")
    assert f"*Sales channel*: <#{EMEA}> → <#{SALES}> (environment)" in lines[1]  # latest first
    assert f"*Sales channel*: <#{SALES}> (environment) → <#{EMEA}>" in lines[2]


# --------------------------------------------------------------------------- validation


async def test_bad_values_are_explained_next_to_the_field_and_change_nothing(bot: RunningBot) -> None:
    cases = [
        ("Time & calendar", "timezone", {"Time zone": "Mars/Olympus_Mons"}, "is not a time zone"),
        ("Time & calendar", "business_hours", {"Business hours": "17:00-09:00"}, ""),
        ("Time & calendar", "holidays", {"Holidays": "next friday"}, "is not a date like 2026-12-25"),
        ("SLAs", "sla_remind_minutes", {"Reminder after (minutes)": "120"}, "must come before the escalation"),
        ("SLAs", "sla_escalate_minutes", {"Escalation after (minutes)": "20"}, "must come before the escalation"),
        ("SLAs", "sla_verdict_hours", {"Verdict due after (hours)": "soon"}, "must be a whole number"),
        ("Leads & reasons", "hot_score", {"Hot-lead score": "150"}, "between 0 and 100"),
        ("Digest & discussions", "digest_hour", {"Digest hour": "24"}, "between 0 and 23"),
        ("Digest & discussions", "discuss_cron", {"Discussion schedule": "now and then"}, ""),
        ("Digest & discussions", "discuss_min_acceptance", {"Prompt below acceptance": "150%"}, "between 0%"),
        ("Channels & people", "sales_usergroup", {"Sales user group": "sales-team"}, "user group ID"),
        ("Channels & people", "admins", {"Handoff admins": []}, "at least one admin"),
    ]  # fmt: skip
    await open_settings(bot)
    for page, key, values, words in cases:
        await bot.slack.click(ADMIN, page, home=True)
        reply = await edit(bot, key, values)
        assert reply.errors and words in reply.errors["setting_value"], (key, reply.errors)
        assert reply.errors["setting_value"].strip()
        assert bot.fake.open_view(ADMIN) is not None  # the form stays open with the error
        await bot.slack.close(ADMIN)
        assert await stored(bot, key) is None, key
    assert await audit_count(bot) == 0


# --------------------------------------------------------------------------- SLAs and calendar


async def test_sla_thresholds_and_escalation_mode_from_slack_drive_the_next_pass(bot: RunningBot) -> None:
    await add_rule(bot)  # reps REP1, REP2; no thresholds of its own
    await open_settings(bot, page="SLAs")
    assert not (await edit(bot, "sla_remind_minutes", {"Reminder after (minutes)": "10"})).errors
    assert not (await edit(bot, "sla_escalate_minutes", {"Escalation after (minutes)": "20"})).errors
    assert not (await edit(bot, "sla_escalation", {"Escalation mode": "Reassign to the next rep"})).errors
    text = visible_text(bot.fake.home(ADMIN))
    assert line_of(text, "Reminder after (minutes)").startswith(
        "*Reminder after (minutes)*: 10 · _set in Slack_"
    )
    bot.clock.set(MONDAY_9)
    await add_lead(bot)
    await tick(bot, MONDAY_9 + timedelta(minutes=9))
    assert reminders(bot) == []
    await tick(bot, MONDAY_9 + timedelta(minutes=10))
    assert len(reminders(bot)) == 1 and "10 min" in reminders(bot)[0]
    await tick(bot, MONDAY_9 + timedelta(minutes=20))
    assert any(f"<@{REP2}> is now the suggested owner" in t for t in thread(bot))
    assert bot.fake.dms(MARKETER) == []  # reassigned, not escalated to the manager


async def test_round_the_clock_hours_and_days_start_the_clock_on_saturday(bot: RunningBot) -> None:
    await open_settings(bot, page="Time & calendar")
    assert not (await edit(bot, "business_hours", {"Business hours": "00:00-24:00"})).errors
    assert not (await edit(bot, "business_days", {"Business days": "mon-sun"})).errors
    bot.clock.set(SATURDAY)
    await add_lead(bot)
    await tick(bot, SATURDAY + timedelta(minutes=30))
    assert len(reminders(bot)) == 1


async def test_a_holiday_set_in_slack_stops_the_clock(bot: RunningBot) -> None:
    await open_settings(bot, page="Time & calendar")
    assert not (await edit(bot, "holidays", {"Holidays": "2026-03-09, 2026-12-25"})).errors
    assert await stored(bot, "holidays") == ["2026-03-09", "2026-12-25"]
    assert "2026-03-09, 2026-12-25 · _set in Slack_" in line_of(
        visible_text(bot.fake.home(ADMIN)), "Holidays"
    )
    bot.clock.set(MONDAY_9)
    await add_lead(bot)
    await tick(bot, MONDAY_9 + timedelta(hours=5))
    assert reminders(bot) == []  # Monday is a holiday
    await tick(bot, MONDAY_9 + timedelta(days=1, minutes=30))
    assert len(reminders(bot)) == 1


# --------------------------------------------------------------------------- reasons


async def test_reasons_are_added_renamed_and_retired_and_history_keeps_the_old_label(bot: RunningBot) -> None:
    # a lead rejected as a duplicate before the reason is retired
    old_lead = await claimed_lead(bot, email="dup@acme.com", name="Dee Dup", company="Acme")
    await bot.slack.click(REP1, "Reject", channel_id=SALES)
    await bot.slack.submit(REP1, {"Reason": "Duplicate", "Lead quality": "2 — weak"})
    await bot.flush()

    text = await open_settings(bot, page="Leads & reasons")
    assert "• Duplicate" in text and "• Other" in text
    await bot.slack.click(ADMIN, "Add a reason", home=True)
    reply = await bot.slack.submit(ADMIN, {"Reason": "   "})
    assert reply.errors == {"reason_label": "A reason needs a label."}
    reply = await bot.slack.submit(ADMIN, {"Reason": "not our icp"})
    assert reply.errors == {"reason_label": "There is already a reason with this label."}
    assert not (await bot.slack.submit(ADMIN, {"Reason": "Too small for us"})).errors
    await bot.slack.click(ADMIN, "Edit", home=True, block_id="reason_wrong_contact")
    assert not (await bot.slack.submit(ADMIN, {"Reason": "Wrong person"})).errors
    await bot.slack.click(ADMIN, "Edit", home=True, block_id="reason_duplicate")
    assert not (await bot.slack.submit(ADMIN, {"Retire": True})).errors
    await bot.slack.click(ADMIN, "Edit", home=True, block_id="reason_other")
    assert "Retire" not in visible_text(bot.fake.open_view(ADMIN))  # "Other" is always offered
    await bot.slack.close(ADMIN)
    text = visible_text(bot.fake.home(ADMIN))
    assert "• Too small for us" in text and "• Wrong person" in text and "• Duplicate" not in text
    assert "Retired (still shown on past leads): Duplicate" in text

    await claimed_lead(bot, email="new@beta.io", name="Nia New", company="Beta")
    await bot.slack.click(REP1, "Reject", channel_id=SALES)
    offered = options_of(bot.fake.open_view(REP1), "Reason")
    assert "Too small for us" in offered and "Wrong person" in offered and "Duplicate" not in offered
    assert offered[-1] == "Other"
    await bot.slack.close(REP1)
    # the earlier rejection still reads "Duplicate" in its details
    await bot.slack.click(MARKETER, "Details", channel_id=SALES, message_ts=_card_ts(bot, old_lead))
    assert "reason: Duplicate" in visible_text(bot.fake.open_view(MARKETER))
    history = (await bot.slack.command(ADMIN, "/handoff", "settings history")).text
    assert "*Reject reasons*: “Duplicate” → retired" in history
    assert "*Reject reasons*: “Wrong contact” → “Wrong person”" in history
    assert "*Reject reasons*: — → added “Too small for us”" in history


def _card_ts(bot: RunningBot, lead_id: int) -> str:
    for message in bot.fake.messages(SALES):
        if f"#{lead_id}" in visible_text(message.blocks) or str(lead_id) in str(message.blocks):
            return message.ts
    raise AssertionError(f"no card for lead {lead_id}")


# --------------------------------------------------------------------------- hot leads, digest, prompts, teams


async def test_the_hot_lead_score_set_in_slack_pings_the_rules_group(bot: RunningBot) -> None:
    await add_rule(bot, hot_usergroup="S0HOT")  # a group, but no score of its own
    await add_lead(bot, email="warm@acme.com", score=85)  # hot by HANDOFF_HOT_SCORE's default, 80
    await open_settings(bot, page="Leads & reasons")
    assert not (await edit(bot, "hot_score", {"Hot-lead score": "90"})).errors
    await add_lead(bot, email="hot@acme.com", score=95)
    await add_lead(bot, email="cool@acme.com", score=85)  # no longer hot enough
    hot = [m.text for m in bot.fake.messages(SALES, include_threads=True) if "Hot lead" in m.text]
    assert hot == [
        ":fire: Hot lead (score 85) for <!subteam^S0HOT>",
        ":fire: Hot lead (score 95) for <!subteam^S0HOT>",
    ]


async def test_the_digest_moves_to_the_day_and_hour_set_in_slack(bot: RunningBot) -> None:
    team = await bot.handoff.default_team_id()
    own_time = next(j for j in JOBS if j.name == digest_service.JOB_NAME + "_own_time")
    weekly = next(j for j in JOBS if j.name == digest_service.JOB_NAME)
    await open_settings(bot, page="Digest & discussions")
    assert not (await edit(bot, "digest_day", {"Digest day": "Tue"})).errors
    assert not (await edit(bot, "digest_hour", {"Digest hour": "14"})).errors
    monday_9 = MONDAY_9  # the environment's slot (mon 9:00): not this workspace's any more
    bot.clock.set(monday_9)
    assert await run_job(bot.handoff, weekly, monday_9, scheduled=True) == {team: False}
    assert await run_job(bot.handoff, own_time, monday_9, scheduled=True) == {team: False}
    tuesday_14 = monday_9 + timedelta(days=1, hours=5)
    bot.clock.set(tuesday_14)
    assert await run_job(bot.handoff, own_time, tuesday_14, scheduled=True) == {team: True}
    await bot.flush()
    assert [m for m in bot.fake.messages(PARTNERSHIP) if "Handoff weekly digest" in m.text]
    # an hour later the same week: nothing twice
    await run_job(bot.handoff, own_time, tuesday_14 + timedelta(hours=1), scheduled=True)
    await bot.flush()
    assert len([m for m in bot.fake.messages(PARTNERSHIP) if "Handoff weekly digest" in m.text]) == 1


async def test_discussion_schedule_and_thresholds_set_in_slack(bot: RunningBot) -> None:
    team = await bot.handoff.default_team_id()
    await open_settings(bot, page="Digest & discussions")
    assert not (await edit(bot, "discuss_cron", {"Discussion schedule": "daily 17:00"})).errors
    assert not (await edit(bot, "discuss_min_sample", {"…with at least (verdicts)": "3"})).errors
    assert not (await edit(bot, "discuss_reason_share", {"Prompt when one reason reaches": "40%"})).errors
    assert "40% · _set in Slack_" in line_of(
        visible_text(bot.fake.home(ADMIN)), "Prompt when one reason reaches"
    )
    tuesday_17 = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)  # not the environment's mon 10:00
    bot.clock.set(tuesday_17)
    assert await run_scheduled_prompts(bot.handoff, team, tuesday_17) == 1
    async with bot.handoff.open_context(team) as ctx:
        found = await thresholds(ctx)
    assert (found.min_sample, found.reason_share) == (3, 0.4)


async def test_team_membership_set_in_slack(bot: RunningBot) -> None:
    team = await bot.handoff.default_team_id()
    assert await side_of(bot.handoff, team, REP1, now=bot.clock.now()) is None
    await open_settings(bot)
    assert not (await edit(bot, "sales_users", {"Sales team (people)": [REP1, REP2]})).errors
    assert not (await edit(bot, "marketing_users", {"Marketing team (people)": [MARKETER]})).errors
    assert await side_of(bot.handoff, team, REP1, now=bot.clock.now()) == "sales"
    assert await side_of(bot.handoff, team, MARKETER, now=bot.clock.now()) == "marketing"
    assert f"<@{REP1}>, <@{REP2}> · _set in Slack_" in line_of(
        visible_text(bot.fake.home(ADMIN)), "Sales team (people)"
    )


async def test_admins_set_in_slack_may_open_settings_and_the_last_one_stays(bot: RunningBot) -> None:
    await open_settings(bot)
    assert not (await edit(bot, "admins", {"Handoff admins": [ADMIN, REP1]})).errors
    text = await open_settings(bot, REP1)
    assert "Settings · Channels & people" in text
    await bot.slack.click(REP1, "Edit", home=True, block_id="setting_admins")
    assert "Reset" not in visible_text(bot.fake.open_view(REP1))  # admins are changed, never reset
    await bot.slack.close(REP1)
    listing = (await bot.slack.command(REP1, "/handoff", "settings")).text
    assert f"*Handoff admins*: <@{ADMIN}>, <@{REP1}> _(set in Slack)_" in listing
    async with bot.handoff.uow() as uow:
        rows = await uow.session.scalars(select(WorkspaceSetting.key))
        assert "admins" in set(rows)


async def test_a_channel_handoff_is_not_in_is_refused_next_to_the_field(bot: RunningBot) -> None:
    bot.fake.add_channel("C0QUIET", name="quiet", members=[ADMIN], bot_is_member=False)
    await open_settings(bot)
    reply = await edit(bot, "marketing_channel", {"Marketing channel": "C0QUIET"})
    assert reply.errors == {
        "setting_value": "Handoff is not in <#C0QUIET>: type `/invite @Handoff` there first, then pick it again."
    }
    assert await stored(bot, "marketing_channel") is None
