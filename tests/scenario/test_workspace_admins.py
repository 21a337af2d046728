"""Admins are per workspace: the installer is a workspace's first admin, `/handoff admins` adds and
removes others, and nobody is an admin (or named as one) in a workspace that is not theirs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest

from bot import messages
from tests.conftest import (
    ADMIN,
    OUTSIDER,
    REP1,
    REP2,
    SALES,
    RunningBot,
    oauth_settings,
    serve_bot,
)
from tests.reliability.helpers import add_lead
from tests.scenario.test_oauth_install import install

TEAM_B, TEAM_C = "T0SECOND", "T0THIRD"
INSTALLER_B, INSTALLER_C, BEA, BEN = "U0BINSTALL", "U0CINSTALL", "U0BEA", "U0BEN"


@pytest.fixture
async def oauth_bot(engine, fake_slack, clock, database_url) -> AsyncIterator[RunningBot]:
    # HANDOFF_ADMINS=U0ADMIN, as an operator of several workspaces might have left it
    settings = oauth_settings(
        database_url,
        fake_slack,
    )
    async with serve_bot(engine, fake_slack, clock, settings) as running:
        for user in (INSTALLER_B, INSTALLER_C, BEA, BEN):
            running.fake.add_user(user, name=user.lower())
        yield running


async def install_by(bot: RunningBot, team_id: str, installer: str, n: int) -> None:
    result = await install(bot, team_id=team_id, token=f"xoxb-{n}", code=f"code-{n}", installer=installer)
    assert result.startswith("200"), result


async def command(bot: RunningBot, team_id: str, user_id: str, text: str) -> str:
    """`/handoff <text>` from `user_id` in `team_id`: what the person reads (the ack's words, or
    what came later through the response_url)."""
    before = len(bot.fake.ephemerals(user_id))
    body = urlencode(
        {
            "token": "x",
            "team_id": team_id,
            "team_domain": team_id.lower(),
            "channel_id": SALES,
            "channel_name": "sales",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/handoff",
            "text": text,
            "api_app_id": bot.fake.app_id,
            "is_enterprise_install": "false",
            "response_url": bot.fake.issue_response_url(channel_id=SALES, user_id=user_id),
            "trigger_id": bot.fake.issue_trigger(user_id),
        }
    )
    reply = await bot.slack.send_raw(body, content_type="application/x-www-form-urlencoded")
    assert reply.status == 200, reply.body
    if isinstance(reply.json, dict) and reply.json.get("text"):
        return str(reply.json["text"])
    if not reply.body:
        # an empty ack: the listener outran the ack deadline (a slow machine: CI saw 2.5 s) and
        # answers through the response_url once done; every command here answers something
        for _ in range(500):
            if bot.fake.ephemerals(user_id)[before:]:
                break
            await asyncio.sleep(0.02)  # polling the fake for the late answer
    later = bot.fake.ephemerals(user_id)[before:]
    return "\n".join(e.text for e in later) if later else reply.body


async def test_the_installer_is_the_first_admin_and_other_workspaces_people_are_not(
    oauth_bot: RunningBot,
) -> None:
    await install_by(oauth_bot, TEAM_B, INSTALLER_B, 1)
    # HANDOFF_ADMINS' U0ADMIN is nobody here, and a refusal names this workspace's admin only
    refusal = await command(oauth_bot, TEAM_B, BEA, "export")
    assert "Only Handoff admins" in refusal and ADMIN not in refusal
    refusal = await command(oauth_bot, TEAM_B, ADMIN, "status")
    assert "Only Handoff admins" in refusal and f"<@{INSTALLER_B}>" in refusal and ADMIN not in refusal
    # the installer is an admin here
    assert messages.STATUS_HEADER in await command(oauth_bot, TEAM_B, INSTALLER_B, "status")
    listed = await command(oauth_bot, TEAM_B, BEA, "admins")
    assert f"<@{INSTALLER_B}>" in listed and ADMIN not in listed


async def test_admins_add_and_remove_admins_of_their_own_workspace_only(oauth_bot: RunningBot) -> None:
    await install_by(oauth_bot, TEAM_B, INSTALLER_B, 1)
    await install_by(oauth_bot, TEAM_C, INSTALLER_C, 2)
    # C's installer is nobody in B
    refusal = await command(oauth_bot, TEAM_B, INSTALLER_C, f"admins add <@{INSTALLER_C}>")
    assert "Only Handoff admins" in refusal and INSTALLER_C not in refusal.split("Ask")[1]
    assert await command(oauth_bot, TEAM_B, INSTALLER_B, f"admins add <@{BEA}|bea>") == (
        messages.ADMIN_ADDED.format(user=f"<@{BEA}>")
    )
    assert messages.STATUS_HEADER in await command(oauth_bot, TEAM_B, BEA, "status")
    # B's admins are not C's
    assert "Only Handoff admins" in await command(oauth_bot, TEAM_C, BEA, "status")
    listed_c = await command(oauth_bot, TEAM_C, BEN, "admins list")
    assert f"<@{INSTALLER_C}>" in listed_c and BEA not in listed_c and INSTALLER_B not in listed_c
    # removing: by an admin; never the last one
    await command(oauth_bot, TEAM_B, BEA, f"admins remove <@{INSTALLER_B}>")
    assert "Only Handoff admins" in await command(oauth_bot, TEAM_B, INSTALLER_B, "status")
    last = await command(oauth_bot, TEAM_B, BEA, f"admins remove <@{BEA}>")
    assert messages.ADMINS_LAST_ONE in last
    assert messages.STATUS_HEADER in await command(oauth_bot, TEAM_B, BEA, "status")


async def test_a_reinstall_does_not_make_the_reinstaller_an_admin(oauth_bot: RunningBot) -> None:
    await install_by(oauth_bot, TEAM_B, INSTALLER_B, 1)
    await install_by(oauth_bot, TEAM_B, BEN, 3)  # someone else reinstalls (e.g. new scopes)
    listed = await command(oauth_bot, TEAM_B, BEA, "admins")
    assert f"<@{INSTALLER_B}>" in listed and BEN not in listed


async def test_handoff_run_runs_the_callers_workspace_only(oauth_bot: RunningBot) -> None:
    await install_by(oauth_bot, TEAM_B, INSTALLER_B, 1)
    await install_by(oauth_bot, TEAM_C, INSTALLER_C, 2)
    done_b = await command(oauth_bot, TEAM_B, INSTALLER_B, "run purge_processed_keys")
    assert done_b == messages.RUN_DONE.format(job="purge_processed_keys")
    # B's admin ran B's slot; C's is still C's to run
    done_c = await command(oauth_bot, TEAM_C, INSTALLER_C, "run purge_processed_keys")
    assert done_c == messages.RUN_DONE.format(job="purge_processed_keys")


# ------------------------------------------------------------------ one workspace (HANDOFF_ADMINS)


async def test_single_workspace_keeps_handoff_admins_and_admins_can_add_more(bot: RunningBot) -> None:
    reply = await bot.slack.command(REP1, "/handoff", "status", channel_id=SALES)
    assert f"<@{ADMIN}>" in reply.text and "Only Handoff admins" in reply.text
    reply = await bot.slack.command(OUTSIDER, "/handoff", f"admins add <@{OUTSIDER}>", channel_id=SALES)
    assert "Only Handoff admins" in reply.text
    reply = await bot.slack.command(ADMIN, "/handoff", f"admins add <@{REP1}>", channel_id=SALES)
    assert reply.text == messages.ADMIN_ADDED.format(user=f"<@{REP1}>")
    reply = await bot.slack.command(REP1, "/handoff", "status", channel_id=SALES)
    assert messages.STATUS_HEADER in reply.text
    reply = await bot.slack.command(REP2, "/handoff", "admins", channel_id=SALES)
    assert f"<@{ADMIN}>" in reply.text and f"<@{REP1}>" in reply.text
    reply = await bot.slack.command(REP1, "/handoff", "admins add bob", channel_id=SALES)
    assert "Usage" in reply.text


async def test_a_failed_delivery_alerts_that_workspaces_admins(oauth_bot: RunningBot) -> None:
    await install_by(oauth_bot, TEAM_B, INSTALLER_B, 1)
    oauth_bot.fake.fail("chat.postMessage", kind="error", error="channel_not_found")  # fails for good
    await add_lead(oauth_bot.handoff, TEAM_B)
    await oauth_bot.flush()
    await oauth_bot.flush()
    assert any("channel_not_found" in m.text for m in oauth_bot.fake.dms(INSTALLER_B))
    assert oauth_bot.fake.dms(ADMIN) == []  # HANDOFF_ADMINS' admin is nobody in workspace B
