"""`/targets` over signed HTTP: the scoreboard people see agrees with a hand count of the fixture."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.sandbox import visible_text
from bot.storage.models import MetricReport, Target
from tests.conftest import ADMIN, MARKETER, PARTNERSHIP, REP1, RunningBot
from tests.metrics_fixture import NOW, insert_history


async def seed(bot: RunningBot) -> None:
    bot.clock.set(NOW)
    await insert_history(bot.handoff.engine, bot.fake.team_id)


async def count(bot: RunningBot, model: type) -> int:
    async with bot.handoff.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_targets_show_value_pace_bars_and_funnel(bot: RunningBot) -> None:
    """March half gone: 6 of 12 delivered is on track; the funnel is 6 → 3 → 2 → 2."""
    await seed(bot)
    for args in (
        "set leads_delivered 12",
        "set acceptance_rate 60% month",
        "set time_to_claim 20m month",
        "set deals_won 10 quarter",
        "set leads_delivered 2 month enterprise",
    ):
        reply = await bot.slack.command(ADMIN, "/targets", args)
        assert "Target saved" in reply.text, reply.text
    reply = await bot.slack.command(REP1, "/targets")
    text = reply.text
    [shown] = bot.fake.ephemerals(REP1)
    assert shown.blocks  # ephemeral with blocks, not posted in the channel
    assert "Shared targets · March 2026" in text
    assert "`▓▓▓▓▓│░░░░░` 6 / 12 (50%) · :white_check_mark: on track — 6 expected by now" in text
    assert (
        "*Acceptance rate* · whole team\n`▓▓▓▓▓▓▓▓▓▓` 75% / 60% (125%) · :white_check_mark: on track" in text
    )
    assert "30 min / 20 min (67%) · :warning: behind" in text
    assert "*Deals won* · whole team" in text and "2 / 10 (20%) · :warning: behind" in text
    assert "*Leads delivered (MQL)* · segment enterprise" in text and "2 / 2 (100%) · :rocket: ahead" in text
    assert "*Delivered* 6 → *Accepted* 3 (50%) → *Meeting* 2 (67%) → *Won* 2 (100%)" in text
    assert "acceptance rate 75% of 4 verdicts · median time to claim 30 min · revenue won USD 1,500" in text


async def test_public_posts_in_the_channel(bot: RunningBot) -> None:
    await seed(bot)
    await bot.slack.command(MARKETER, "/targets", "public", channel_id=PARTNERSHIP)
    post = bot.fake.latest(PARTNERSHIP)
    assert post is not None and "Shared targets · March 2026" in visible_text(post.blocks)
    assert "No targets for this month or quarter yet" in visible_text(post.blocks)


async def test_only_admins_set_targets_and_errors_are_clear(bot: RunningBot) -> None:
    await seed(bot)
    reply = await bot.slack.command(REP1, "/targets", "set leads_delivered 12")
    assert "Only Handoff admins" in reply.text
    reply = await bot.slack.command(ADMIN, "/targets", "set leads_dlivered 12")
    assert "did you mean `leads_delivered`?" in reply.text  # a typo never becomes a manual metric
    reply = await bot.slack.command(ADMIN, "/targets", "set acceptance_rate lots")
    assert "is not a percentage" in reply.text
    reply = await bot.slack.command(ADMIN, "/targets", "set leads_delivered 10 2026-01")
    assert "January 2026 is over" in reply.text
    reply = await bot.slack.command(ADMIN, "/targets", "set leads_delivered 15")
    reply = await bot.slack.command(ADMIN, "/targets", "set leads_delivered 18")
    assert "*18* (was 15)" in reply.text
    assert await count(bot, Target) == 1  # replaced in place


async def test_report_manual_metric_totals_and_increments(bot: RunningBot) -> None:
    await seed(bot)
    reply = await bot.slack.command(REP1, "/targets", "report demo_calls 12")
    assert "no target for `demo_calls`" in reply.text
    await bot.slack.command(ADMIN, "/targets", "set demo_calls 40 month")
    reply = await bot.slack.command(REP1, "/targets", "report demo_calls 12")
    assert "Recorded *Demo calls* = *12*" in reply.text
    reply = await bot.slack.command(REP1, "/targets", "report demo_calls +3")
    assert "= *15*" in reply.text and "(target 40)" in reply.text
    reply = await bot.slack.command(REP1, "/targets", "report leads_delivered 3")
    assert "computed from the leads" in reply.text
    assert await count(bot, MetricReport) == 2
    reply = await bot.slack.command(MARKETER, "/targets")
    assert "15 / 40 (38%) · :warning: behind" in reply.text and f"reported by <@{REP1}>" in reply.text


async def test_set_target_form(bot: RunningBot) -> None:
    await seed(bot)
    await bot.slack.command(ADMIN, "/targets", "set")
    view = bot.fake.open_view(ADMIN)
    assert view is not None and view["title"]["text"] == "Set a target"
    reply = await bot.slack.submit(ADMIN, {"Metric": "acceptance_rate", "Target": "140%"})
    assert reply.errors and "between 0% and 100%" in reply.errors["target_value"]
    reply = await bot.slack.submit(ADMIN, {"Metric": "manual", "Target": "5"})
    assert reply.errors and "name the metric" in reply.errors["manual_metric"]
    await bot.slack.submit(ADMIN, {"Metric": "acceptance_rate", "Target": "55%", "Period": "quarter"})
    saved = bot.fake.open_view(ADMIN)
    assert saved is not None and "*Acceptance rate* for whole team, Q1 2026: *55%*" in visible_text(saved)
    reply = await bot.slack.command(REP1, "/targets", "set")
    assert "Only Handoff admins" in reply.text and bot.fake.open_view(REP1) is None


async def test_admin_gets_the_export_as_a_file_by_dm(bot: RunningBot) -> None:
    import asyncio
    import csv
    import io

    await seed(bot)
    reply = await bot.slack.command(REP1, "/handoff", "export")
    assert "Only Handoff admins" in reply.text
    reply = await bot.slack.command(ADMIN, "/handoff", "export feedback since 2026-03-01")
    assert "Preparing your feedback export" in reply.text
    await asyncio.gather(*[t for t in bot.handoff._tasks if t.get_name().startswith("export:")])
    [file] = bot.fake.files
    assert file.channel == bot.fake.im_channel(ADMIN)
    assert file.filename == "handoff-feedback-2026-03-16.csv"
    rows = list(csv.DictReader(io.StringIO(file.content.decode())))
    assert sorted(r["verdict"] for r in rows) == ["accepted", "accepted", "accepted", "rejected"]
    assert "(4 rows since 2026-03-01)" in file.initial_comment
    reply = await bot.slack.command(ADMIN, "/handoff", "export leads since last-week")
    assert "Usage: `/handoff export" in reply.text


async def test_the_export_by_dm_quotes_formulas_so_the_spreadsheet_shows_text(bot: RunningBot) -> None:
    import asyncio
    import csv
    import io

    from tests.scenario.helpers_intake import api

    evil = {"email": "evil@x.io", "name": '=HYPERLINK("http://evil.example","Open")', "notes": "@SUM(1)"}
    status, _, _ = await api(bot, {**evil, "company": "+cmd|' /C calc'!A0", "phone": "+44 20 7946 0000"})
    assert status == 201
    await bot.slack.command(ADMIN, "/handoff", "export leads")
    await asyncio.gather(*[t for t in bot.handoff._tasks if t.get_name().startswith("export:")])
    [file] = bot.fake.files
    [row] = list(csv.DictReader(io.StringIO(file.content.decode(), newline="")))
    assert row["name"] == "'" + evil["name"] and row["notes"] == "'@SUM(1)"
    assert row["company"] == "'+cmd|' /C calc'!A0" and row["phone"] == "'+44 20 7946 0000"
