"""App Home over signed HTTP: rep leads with next actions, marketing quality, shared targets."""

from __future__ import annotations

import re
from datetime import timedelta

from slack_sdk.models.blocks import DividerBlock

from bot.sandbox import visible_text
from bot.slack.blocks.home import fit
from bot.storage.db import make_session_factory
from bot.storage.models import Member
from tests.conftest import ADMIN, MARKETER, REP1, REP2, RunningBot
from tests.metrics_fixture import NOW, insert_history, lead_row


async def seed(bot: RunningBot, **sides: str) -> None:
    bot.clock.set(NOW)
    team = bot.fake.team_id
    await insert_history(bot.handoff.engine, team)
    async with make_session_factory(bot.handoff.engine)() as session, session.begin():
        for user, side in sides.items():
            session.add(Member(team_id=team, user_id=user, side=side, away=False, updated_at=NOW))


async def test_rep_sees_open_leads_stalest_first_with_next_actions(bot: RunningBot) -> None:
    """REP1 owns 1 (won), 2 (meeting, changed 03-12), 4 (accepted, 03-06), 6 (claimed, 03-14), 9 (won)."""
    await seed(bot, **{REP1: "sales"})
    reply = await bot.slack.app_home_opened(REP1)
    assert reply.status == 200
    home = bot.fake.home(REP1)
    assert home is not None
    text = re.sub(r" · #\d+ · ", " · ", visible_text(home))  # ids depend on the database
    assert "My open leads" in text
    lines = [line for line in text.split("\n") if line.startswith(("*Lead", ":point_right:"))]
    assert lines == [
        "*Lead 4 · Company 4* · Accepted",
        ":point_right: Next: *make contact* · last change 10 days ago · ads",
        "*Lead 2 · Company 2* · Meeting booked",
        ":point_right: Next: *hold the meeting, then move it to opportunity* · last change 4 days ago · webinar",
        "*Lead 6 · Company 6* · Claimed",
        ":point_right: Next: *accept or reject* · last change 2 days ago · referral",
    ]
    assert "Lead quality" not in text  # a rep's Home has no marketing section
    assert "Shared targets · March 2026" in text and "*Delivered* 6 → *Accepted* 3 (50%)" in text


async def test_marketing_sees_quality_by_source_and_campaign(bot: RunningBot) -> None:
    await seed(bot, **{MARKETER: "marketing"})
    await bot.slack.app_home_opened(MARKETER)
    text = visible_text(bot.fake.home(MARKETER))
    assert "My open leads" not in text
    assert ":mag: *Last 30 days* · 8 leads · accepted 67% · win rate 100%" in text
    assert "*webinar* — 3 leads · accepted 100% of 3 verdicts · rating 4.3/5 · win rate 100%" in text
    assert "*ads* — 4 leads · accepted 33% of 3 verdicts · rating 2.0/5 · win rate —" in text
    assert "rejected for: No budget or authority (1), Not our ICP (1)" in text
    assert "*webinar / spring* — 2 leads · accepted 100% of 2 verdicts · rating 4.5/5" in text
    assert ":mag: *Last 90 days* · 8 leads" in text


async def test_open_leads_page_and_stay_under_the_block_limit(bot: RunningBot) -> None:
    await seed(bot, **{REP2: "sales"})
    team = bot.fake.team_id
    async with make_session_factory(bot.handoff.engine)() as session, session.begin():
        for n in range(100, 125):
            lead = lead_row(team, n, "03-01 09:00", "accepted", owner_id=REP2, claimed_at="03-01 10:00")
            lead.updated_at = NOW - timedelta(hours=n)  # 124 is stalest
            session.add(lead)
    await bot.slack.app_home_opened(REP2)
    first = visible_text(bot.fake.home(REP2))
    assert "Page 1 of 3 · 25 open leads" in first and "*Lead 124 " in first and "*Lead 114 " not in first
    assert "[Previous page]" not in first
    await bot.slack.click(REP2, "Next page", home=True)
    second = visible_text(bot.fake.home(REP2))
    assert "Page 2 of 3" in second and "*Lead 114 " in second and "*Lead 124 " not in second
    assert "[Previous page]" in second and "[Next page]" in second
    assert len(bot.fake.home(REP2)["blocks"]) <= 100


async def test_admin_with_no_profile_sees_everything(bot: RunningBot) -> None:
    await seed(bot)
    await bot.slack.app_home_opened(ADMIN)
    text = visible_text(bot.fake.home(ADMIN))
    assert "No open leads" in text and "Lead quality" in text and "Shared targets" in text


def test_fit_truncates_and_says_so() -> None:
    blocks = [DividerBlock() for _ in range(130)]
    cut = fit(blocks)
    assert len(cut) == 100
    assert "31 more sections did not fit" in visible_text(cut)


async def test_lead_quality_is_kept_five_minutes_per_instance(bot: RunningBot) -> None:
    await seed(bot, **{MARKETER: "marketing"})
    await bot.slack.app_home_opened(MARKETER)
    assert ":mag: *Last 30 days* · 8 leads" in visible_text(bot.fake.home(MARKETER))
    async with make_session_factory(bot.handoff.engine)() as session, session.begin():
        session.add(lead_row(bot.fake.team_id, 300, "03-16 10:00", "new", source="ads"))
    bot.clock.advance(minutes=4)
    await bot.slack.app_home_opened(MARKETER)
    assert ":mag: *Last 30 days* · 8 leads" in visible_text(bot.fake.home(MARKETER))
    bot.clock.advance(minutes=2)
    await bot.slack.app_home_opened(MARKETER)
    assert ":mag: *Last 30 days* · 9 leads" in visible_text(bot.fake.home(MARKETER))
