"""Settings → Digest & discussions: how long a prompt stays open (HANDOFF_DISCUSS_WINDOW_DAYS) and
each channel's own prompt schedule (what `/discuss schedule … #channel` sets) are shown with where
they come from, edited in forms with inline errors, recorded in the history, and refused to anyone
but an admin (forged submissions included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.sandbox import visible_text
from bot.services.discussions import run_recaps, run_scheduled_prompts
from tests.conftest import ADMIN, PARTNERSHIP, REP1, RunningBot
from tests.scenario.test_settings_home import audit_count, edit, line_of, open_settings, stored

EMEA = "C0EMEA"
TUESDAY_17 = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


def prompts_in(bot: RunningBot, channel: str) -> list[str]:
    return [m.ts for m in bot.fake.messages(channel) if "Share your thoughts" in visible_text(m.blocks)]


async def test_the_discussion_window_set_in_slack_closes_the_next_prompt(bot: RunningBot) -> None:
    team = await bot.handoff.default_team_id()
    text = await open_settings(bot, page="Digest & discussions")
    assert line_of(text, "Discussion open for (days)").startswith(
        "*Discussion open for (days)*: 4 · _default_"
    )
    reply = await edit(bot, "discuss_window_days", {"Discussion open for (days)": "45"})
    assert reply.errors == {"setting_value": "must be between 1 and 30"}
    await bot.slack.close(ADMIN)
    assert await stored(bot, "discuss_window_days") is None
    assert not (await edit(bot, "discuss_window_days", {"Discussion open for (days)": "2"})).errors
    assert line_of(visible_text(bot.fake.home(ADMIN)), "Discussion open for (days)").startswith(
        "*Discussion open for (days)*: 2 · _set in Slack_"
    )
    await bot.slack.command(REP1, "/discuss", "", channel_id=PARTNERSHIP)
    await bot.flush()
    assert len(prompts_in(bot, PARTNERSHIP)) == 1
    bot.clock.advance(days=2, minutes=1)  # the environment's 4 days are not over, the workspace's 2 are
    assert await run_recaps(bot.handoff, team, bot.clock.now()) == 1
    history = (await bot.slack.command(ADMIN, "/handoff", "settings history")).text
    assert f"<@{ADMIN}> *Discussion open for (days)*: 4 (default) → 2" in history


async def test_a_channel_gets_its_own_prompt_schedule_from_settings(bot: RunningBot) -> None:
    team = await bot.handoff.default_team_id()
    bot.fake.add_channel(EMEA, name="emea-sales", members=[ADMIN, REP1])
    bot.fake.add_channel("C0QUIET", name="quiet", members=[ADMIN], bot_is_member=False)
    text = await open_settings(bot, page="Digest & discussions")
    assert "Schedules per channel" in text
    await bot.slack.click(ADMIN, "Add a channel schedule", home=True)
    reply = await bot.slack.submit(ADMIN, {"When": "daily 17:00"})
    assert reply.errors == {"schedule_channel": "Pick the channel the prompts go to."}
    reply = await bot.slack.submit(ADMIN, {"Channel": "C0QUIET", "When": "daily 17:00"})
    assert reply.errors == {
        "schedule_channel": "Handoff is not in <#C0QUIET>: type `/invite @Handoff` there first, then pick it again."
    }
    reply = await bot.slack.submit(ADMIN, {"Channel": EMEA, "When": "now and then"})
    assert set(reply.errors or {}) == {"schedule_spec"} and reply.errors["schedule_spec"].strip()
    assert await stored(bot, "discuss_schedules") is None and await audit_count(bot) == 0
    assert not (await bot.slack.submit(ADMIN, {"Channel": EMEA, "When": "Daily  17:00"})).errors
    assert bot.fake.open_view(ADMIN) is None
    assert f"• <#{EMEA}>: `daily 17:00` · _set in Slack_" in visible_text(bot.fake.home(ADMIN))
    # the scheduler posts there at 17:00, besides the partnership channel's own schedule
    bot.clock.set(TUESDAY_17)
    assert await run_scheduled_prompts(bot.handoff, team, TUESDAY_17) == 1
    await bot.flush()
    assert len(prompts_in(bot, EMEA)) == 1 and prompts_in(bot, PARTNERSHIP) == []
    shown = (await bot.slack.command(ADMIN, "/discuss", "schedule")).text
    assert f"<#{EMEA}>: `daily 17:00`" in shown
    listing = (await bot.slack.command(ADMIN, "/handoff", "settings")).text
    assert f"*Discussion schedule in <#{EMEA}>*: `daily 17:00` _(set in Slack)_" in listing
    # change it, then remove it
    await bot.slack.click(ADMIN, "Edit", home=True, block_id=f"schedule_{EMEA}")
    assert not (await bot.slack.submit(ADMIN, {"When": "weekdays 9:00"})).errors
    assert f"• <#{EMEA}>: `weekdays 9:00` · _set in Slack_" in visible_text(bot.fake.home(ADMIN))
    await bot.slack.click(ADMIN, "Edit", home=True, block_id=f"schedule_{EMEA}")
    assert not (await bot.slack.submit(ADMIN, {"Remove": True})).errors
    assert f"<#{EMEA}>" not in visible_text(bot.fake.home(ADMIN))
    bot.clock.set(TUESDAY_17 + timedelta(days=1))
    assert await run_scheduled_prompts(bot.handoff, team, bot.clock.now()) == 0
    history = (await bot.slack.command(ADMIN, "/handoff", "settings history")).text.split("\n")
    assert (
        f"*Discussion schedule per channel*: <#{EMEA}> `weekdays 9:00` → <#{EMEA}> — (the default)"
        in history[1]
    )
    assert (
        f"*Discussion schedule per channel*: <#{EMEA}> `daily 17:00` → <#{EMEA}> `weekdays 9:00`"
        in history[2]
    )
    assert (
        f"*Discussion schedule per channel*: <#{EMEA}> — (the default) → <#{EMEA}> `daily 17:00`"
        in history[3]
    )


async def test_discuss_schedule_from_the_command_shows_in_settings_and_history(bot: RunningBot) -> None:
    await bot.slack.command(ADMIN, "/discuss", f"schedule off <#{PARTNERSHIP}|partnership>")
    text = await open_settings(bot, page="Digest & discussions")
    assert f"• <#{PARTNERSHIP}>: `off` · _set in Slack_" in text
    history = (await bot.slack.command(ADMIN, "/handoff", "settings history")).text
    assert f"<@{ADMIN}> *Discussion schedule per channel*: <#{PARTNERSHIP}> — (the default) → " in history


async def test_forged_schedule_forms_from_a_rep_are_refused(bot: RunningBot) -> None:
    bot.fake.add_channel(EMEA, name="emea-sales", members=[ADMIN, REP1])
    await open_settings(bot, page="Digest & discussions")
    await bot.slack.click(ADMIN, "Add a channel schedule", home=True)
    form = bot.fake.open_view(ADMIN)
    assert form is not None
    reply = await bot.slack.submit(REP1, {"Channel": EMEA, "When": "daily 17:00"}, view_id=form["id"])
    assert reply.errors and "Only Handoff admins" in reply.errors["schedule_spec"]
    await bot.slack.close(ADMIN)
    await bot.slack.command(ADMIN, "/discuss", f"schedule daily 17:00 <#{EMEA}|emea-sales>")
    await bot.slack.click(ADMIN, "Digest & discussions", home=True)
    await bot.slack.click(ADMIN, "Edit", home=True, block_id=f"schedule_{EMEA}")
    form = bot.fake.open_view(ADMIN)
    assert form is not None
    reply = await bot.slack.submit(REP1, {"Remove": True}, view_id=form["id"])
    assert reply.errors and "Only Handoff admins" in reply.errors["schedule_spec"]
    assert await stored(bot, "discuss_schedules") == {EMEA: "daily 17:00"}
    assert await audit_count(bot) == 1
