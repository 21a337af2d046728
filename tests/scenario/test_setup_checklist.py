"""First run: the installer of a workspace with nothing configured gets a setup checklist by DM,
and the same message ticks itself off (chat.update through the outbox) as each step is done."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.domain.outbox import Purpose
from bot.sandbox import visible_text
from bot.storage.models import Outbox
from tests.conftest import (
    MARKETING,
    PARTNERSHIP,
    REP1,
    SALES,
    RunningBot,
    oauth_settings,
    serve_bot,
)
from tests.scenario.test_oauth_install import install
from tests.scenario.test_settings_home import edit, open_settings

INSTALLER = "U0INSTALLER"


@pytest.fixture
async def fresh_bot(engine, fake_slack, clock, database_url) -> AsyncIterator[RunningBot]:
    settings = oauth_settings(
        database_url,
        fake_slack,
        sales_channel=None,
        marketing_channel=None,
        partnership_channel=None,
        admins=(),
    )
    async with serve_bot(engine, fake_slack, clock, settings) as running:
        running.fake.add_user(INSTALLER, name="ines", real_name="Ines Installer")
        yield running


def ticks(text: str) -> list[bool]:
    return [line.startswith(":white_check_mark:") for line in text.split("\n") if line.startswith(":white_")]


async def test_the_installers_checklist_ticks_itself_off_in_place(fresh_bot: RunningBot) -> None:
    bot = fresh_bot
    team = bot.fake.team_id
    result = await install(bot, team_id=team, token="xoxb-fresh", code="code-1", installer=INSTALLER)
    assert result.startswith("200"), result
    await bot.flush()
    [dm] = bot.fake.dms(INSTALLER)
    assert "Welcome to Handoff" in visible_text(dm.blocks) and ticks(visible_text(dm.blocks)) == [False] * 3

    await open_settings(bot, INSTALLER)
    await edit(bot, "sales_channel", {"Sales channel": SALES}, user=INSTALLER)
    await edit(bot, "marketing_channel", {"Marketing channel": MARKETING}, user=INSTALLER)
    await bot.flush()
    [dm] = bot.fake.dms(INSTALLER)  # the same message, edited
    assert "(2 of 3)" in visible_text(dm.blocks) and ticks(visible_text(dm.blocks)) == [False] * 3
    await edit(bot, "partnership_channel", {"Partnership channel": PARTNERSHIP}, user=INSTALLER)
    await bot.flush()
    [dm] = bot.fake.dms(INSTALLER)
    assert ticks(visible_text(dm.blocks)) == [True, False, False]

    await edit(bot, "admins", {"Handoff admins": [INSTALLER, REP1]}, user=INSTALLER)
    await bot.flush()
    [dm] = bot.fake.dms(INSTALLER)
    assert ticks(visible_text(dm.blocks)) == [True, True, False]

    reply = await bot.slack.command(INSTALLER, "/handoff", f'route add "Everyone" channel=<#{SALES}|sales>')
    assert "Added rule" in reply.text, reply.text
    await bot.flush()
    [dm] = bot.fake.dms(INSTALLER)
    assert ticks(visible_text(dm.blocks)) == [True, True, True]
    assert "Handoff is set up" in visible_text(dm.blocks) and dm.text == "Set up Handoff: 3 of 3 steps done"

    # done: later changes and a reinstall send nothing more
    before = await checklist_rows(bot)
    await edit(bot, "sales_channel", {"Sales channel": MARKETING}, user=INSTALLER)
    result = await install(bot, team_id=team, token="xoxb-fresh", code="code-2", installer=INSTALLER)
    await bot.flush()
    assert len(bot.fake.dms(INSTALLER)) == 1 and await checklist_rows(bot) == before == 6


async def checklist_rows(bot: RunningBot) -> int:
    """The post and its updates (one per change that could tick a step) in the outbox."""
    async with bot.handoff.uow() as uow:
        rows = await uow.session.scalar(
            select(func.count(Outbox.id)).where(Outbox.purpose == Purpose.SETUP_CHECKLIST.value)
        )
    return int(rows or 0)


async def test_no_checklist_when_the_workspace_is_already_configured(oauth_like_configured) -> None:
    bot = oauth_like_configured
    await install(bot, team_id=bot.fake.team_id, token="xoxb-x", code="code-x", installer=INSTALLER)
    await bot.flush()
    assert bot.fake.dms(INSTALLER) == []


@pytest.fixture
async def oauth_like_configured(engine, fake_slack, clock, database_url) -> AsyncIterator[RunningBot]:
    settings = oauth_settings(
        database_url,
        fake_slack,
    )
    async with serve_bot(engine, fake_slack, clock, settings) as running:
        running.fake.add_user(INSTALLER, name="ines")
        yield running
