"""Speed to lead shown (issue 14, item 5): `/targets` (and App Home and the digest, which show the
same scoreboard) gives p50/p90 of arrival → visible → claimed → contacted, and a speed_to_lead
target counts the share claimed within 5 working minutes of reaching sales."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.sandbox import visible_text
from bot.services.digest import run_weekly_digest
from tests.conftest import ADMIN, PARTNERSHIP, REP1, SALES, RunningBot
from tests.reliability.helpers import card_lead_id
from tests.scenario.helpers_intake import api

MON_10 = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)


async def test_targets_show_the_weeks_speed_to_lead_and_the_target(bot: RunningBot) -> None:
    bot.clock.set(MON_10)
    ids = []
    for name in ("Ann Fast", "Bob Slow", "Cy Waiting"):
        status, body, _ = await api(bot, {"email": f"{name.split()[0].lower()}@acme.com", "name": name})
        assert status == 201
        ids.append(body["id"])
    bot.clock.set(MON_10 + timedelta(minutes=2))  # the cards reach #sales 2 minutes later
    await bot.flush()
    cards = {card_lead_id(m.blocks): m for m in bot.fake.messages(SALES)}
    for lead_id, minute in ((ids[0], 4), (ids[1], 12)):
        bot.clock.set(MON_10 + timedelta(minutes=minute))
        await bot.slack.click(REP1, "Claim", channel_id=SALES, message_ts=cards[lead_id].ts)
    await bot.flush()
    bot.clock.set(MON_10 + timedelta(minutes=30))
    reply = await bot.slack.command(ADMIN, "/targets", "set speed_to_lead 90% month")
    assert "Target saved" in reply.text, reply.text
    text = (await bot.slack.command(REP1, "/targets")).text
    assert "*Speed to lead* · whole team" in text
    assert "33% / 90%" in text  # Ann within 5 working minutes; Bob took 10, Cy still waits after 28
    assert (
        "arrival → visible 2 min / 2 min · visible → claimed 6 min / 9 min · claimed → contacted — "
        "(p50 / p90) · 33% claimed within 5 working min · 3 leads"
    ) in text


async def test_a_lead_claimed_across_a_weekend_counts_the_same_in_targets_home_and_the_digest(
    bot: RunningBot,
) -> None:
    """Business hours 09:00-17:00 Mon-Fri (UTC): a card posted Friday 16:58 and claimed Monday 09:02
    took 4 working minutes (64 hours of wall time). `/targets`, App Home and the weekly digest
    count it the same: claimed within 5 working minutes, and the speed_to_lead target met."""
    friday_1658 = datetime(2026, 3, 13, 16, 58, tzinfo=UTC)
    bot.clock.set(friday_1658)
    status, _, _ = await api(bot, {"email": "wes@acme.com", "name": "Wes Weekend"})
    assert status == 201
    await bot.flush()  # visible at 16:58
    [card] = bot.fake.messages(SALES)
    bot.clock.set(datetime(2026, 3, 16, 9, 2, tzinfo=UTC))
    await bot.slack.click(REP1, "Claim", channel_id=SALES, message_ts=card.ts)
    await bot.flush()
    bot.clock.set(datetime(2026, 3, 16, 9, 30, tzinfo=UTC))
    assert "Target saved" in (await bot.slack.command(ADMIN, "/targets", "set speed_to_lead 90% month")).text
    expected = "100% claimed within 5 working min · 1 leads"

    targets = (await bot.slack.command(REP1, "/targets")).text
    await bot.slack.app_home_opened(REP1)
    home = visible_text(bot.fake.home(REP1) or [])
    team = await bot.handoff.default_team_id()
    assert team
    assert await run_weekly_digest(bot.handoff, team, bot.clock.now())
    await bot.flush()
    [digest, _chart] = bot.fake.messages(PARTNERSHIP)
    digest_text = visible_text(digest.blocks)
    for shown in (targets, home, digest_text):
        assert expected in shown
        assert "100% / 90%" in shown  # the target, met: the same count everywhere
