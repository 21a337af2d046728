"""The time zone an admin sets in Slack (Home → Settings → Time zone) is the workspace's, for
everything that has a local date or hour: target periods in `/targets` and App Home, the digest's
periods and week, scheduled partnership prompts, `/discuss schedule`. HANDOFF_TIMEZONE (UTC in
these tests) is only the default."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.sandbox import visible_text
from bot.services import digest as digest_service
from bot.services.discussions import run_scheduled_prompts
from tests.conftest import ADMIN, PARTNERSHIP, REP1, RunningBot
from tests.scenario.test_settings_home import edit, open_settings

# 20:00 UTC on 31 March is already 1 April, 09:00, in Auckland (UTC+13 until 5 April)
MARCH_31_EVENING = datetime(2026, 3, 31, 20, 0, tzinfo=UTC)


async def set_time_zone(bot: RunningBot, zone: str) -> None:
    await open_settings(bot, page="Time & calendar")
    reply = await edit(bot, "timezone", {"Time zone": zone})
    assert not reply.errors, reply.errors


async def test_targets_and_home_count_the_month_in_the_time_zone_set_in_slack(bot: RunningBot) -> None:
    bot.clock.set(MARCH_31_EVENING)
    assert "Shared targets · March 2026" in (await bot.slack.command(REP1, "/targets")).text
    await set_time_zone(bot, "Pacific/Auckland")
    assert "Shared targets · April 2026" in (await bot.slack.command(REP1, "/targets")).text
    # a target "for the month" is April's there, and shows as this month's
    reply = await bot.slack.command(ADMIN, "/targets", "set leads_delivered 12 month")
    assert "Target saved" in reply.text and "April 2026" in reply.text, reply.text
    text = (await bot.slack.command(REP1, "/targets")).text
    assert "*Leads delivered (MQL)* · whole team" in text
    await bot.slack.app_home_opened(REP1)
    home = visible_text(bot.fake.home(REP1))
    assert "Shared targets · April 2026" in home and "Leads delivered (MQL)" in home
    # March is over in Auckland: a target for it is refused as a past period
    reply = await bot.slack.command(ADMIN, "/targets", "set leads_delivered 10 2026-03")
    assert "March 2026 is over" in reply.text


async def test_the_digest_counts_its_periods_in_the_time_zone_set_in_slack(bot: RunningBot) -> None:
    team = await bot.handoff.default_team_id()
    await set_time_zone(bot, "Pacific/Auckland")
    bot.clock.set(MARCH_31_EVENING)
    assert await digest_service.run_weekly_digest(bot.handoff, team, MARCH_31_EVENING)
    await bot.flush()
    [post] = [m for m in bot.fake.messages(PARTNERSHIP) if "Handoff weekly digest" in m.text]
    assert "April 2026" in visible_text(post.blocks) + post.text
    assert "Mar 25 – Apr 01" in visible_text(post.blocks)  # the week's dates are Auckland's too
    assert "March 2026" not in visible_text(post.blocks) + post.text


async def test_scheduled_prompts_fire_at_the_local_hour_of_the_time_zone_set_in_slack(
    bot: RunningBot,
) -> None:
    team = await bot.handoff.default_team_id()
    await open_settings(bot, page="Digest & discussions")
    assert not (await edit(bot, "discuss_cron", {"Discussion schedule": "daily 17:00"})).errors
    await set_time_zone(bot, "America/New_York")  # UTC-4 since 8 March
    shown = (await bot.slack.command(ADMIN, "/discuss", "schedule")).text
    assert "Scheduled prompts (America/New_York)" in shown
    at_17_utc = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
    bot.clock.set(at_17_utc)
    assert await run_scheduled_prompts(bot.handoff, team, at_17_utc) == 0
    at_17_new_york = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)
    bot.clock.set(at_17_new_york)
    assert await run_scheduled_prompts(bot.handoff, team, at_17_new_york) == 1
    reply = await bot.slack.command(ADMIN, "/discuss", f"schedule mon 09:00 <#{PARTNERSHIP}|partnership>")
    assert "(America/New_York)" in reply.text


async def test_the_digest_job_checks_its_hour_every_quarter_hour_for_half_hour_zones(bot: RunningBot) -> None:
    trigger = digest_service.own_time_trigger(bot.handoff)
    fires = str(trigger)
    assert "minute='0,15,30,45'" in fires, fires
