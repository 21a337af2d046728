"""First run: the installer of a workspace with nothing configured gets a setup checklist by DM,
and the same message ticks itself off (chat.update through the outbox) as each step is done."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.app import build_app
from bot.domain.outbox import Purpose
from bot.outbox.pacing import Pacer
from bot.sandbox import visible_text
from bot.storage.models import Outbox
from tests.conftest import (
    ADMIN,
    MARKETING,
    PARTNERSHIP,
    REP1,
    SALES,
    RunningBot,
    make_settings,
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


# --------------------------------------------------------------------------- single-token installs


def single_token_settings(database_url, fake_slack):  # type: ignore[no-untyped-def]
    """One workspace on a bot token (no OAuth, so no install event), nothing configured yet but
    HANDOFF_ADMINS."""
    return make_settings(
        database_url,
        fake_slack,
        sales_channel=None,
        marketing_channel=None,
        partnership_channel=None,
        admins=(ADMIN, REP1),
    )


@pytest.fixture
async def single_token_bot(engine, fake_slack, clock, database_url) -> AsyncIterator[RunningBot]:
    async with serve_bot(
        engine, fake_slack, clock, single_token_settings(database_url, fake_slack)
    ) as running:
        yield running


async def first_run_checked(handoff) -> None:  # type: ignore[no-untyped-def]
    """Wait for the first-run check a start or a request began (none when the environment names
    a channel: then nothing is unconfigured)."""
    if handoff.first_run is not None:
        await handoff.first_run


async def test_a_single_token_install_sends_the_first_admin_the_checklist_once(
    single_token_bot: RunningBot, engine
) -> None:
    bot = single_token_bot
    assert bot.handoff.first_run is None  # nothing happens before a start or a first request
    await bot.slack.command(REP1, "/handoff", "help")  # the first use
    assert bot.handoff.first_run is not None
    await first_run_checked(bot.handoff)
    await bot.flush()
    [dm] = bot.fake.dms(ADMIN)  # the first of HANDOFF_ADMINS, not whoever used it first
    # HANDOFF_ADMINS names two admins already: that step is ticked
    assert "Welcome to Handoff" in visible_text(dm.blocks) and ticks(visible_text(dm.blocks)) == [
        False,
        True,
        False,
    ]
    assert bot.fake.dms(REP1) == []
    # later requests, a second instance and a restart send nothing more
    await bot.slack.command(REP1, "/handoff", "help")
    for _ in range(2):
        other = build_app(bot.handoff.settings, engine=engine, clock=bot.clock, pacer=Pacer.unlimited())
        try:
            await other.start_background(run_sender=False, run_scheduler=False)
            await first_run_checked(other)
        finally:
            await other.close()
    await bot.flush()
    assert len(bot.fake.dms(ADMIN)) == 1 and await checklist_rows(bot) == 1
    # and it ticks itself off like the installer's
    await open_settings(bot, ADMIN)
    await edit(bot, "sales_channel", {"Sales channel": SALES})
    await bot.flush()
    [dm] = bot.fake.dms(ADMIN)
    assert "(1 of 3)" in visible_text(dm.blocks)


async def test_two_instances_starting_together_send_one_checklist(
    engine, fake_slack, clock, database_url
) -> None:
    settings = single_token_settings(database_url, fake_slack)
    apps = [build_app(settings, engine=engine, clock=clock, pacer=Pacer.unlimited()) for _ in range(2)]
    try:
        for app in apps:
            app.check_first_run()
        await asyncio.gather(*(first_run_checked(app) for app in apps))
        await apps[0].sender.drain()
    finally:
        for app in apps:
            await app.close()
    assert len(fake_slack.dms(ADMIN)) == 1


async def test_a_configured_single_token_workspace_gets_no_checklist(bot: RunningBot) -> None:
    await bot.slack.command(REP1, "/handoff", "help")
    await first_run_checked(bot.handoff)
    await bot.flush()
    assert bot.fake.dms(ADMIN) == []
    assert bot.handoff.first_run is None  # channels in the environment: nothing to check
