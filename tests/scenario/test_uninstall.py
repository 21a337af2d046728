"""app_uninstalled and tokens_revoked: the workspace's jobs and deliveries stop, its data stays, it
says so in the logs and in `/handoff status`, and installing again resumes cleanly."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.handlers.status import status_text
from bot.storage.models import SLACK_BOTS, Lead, Outbox
from tests.conftest import ADMIN, MODES, SALES, RunningBot, make_settings, serve_bot
from tests.reliability.helpers import add_lead
from tests.scenario.test_oauth_install import TEAM_B, TOKEN_B, install, oauth_bot  # noqa: F401


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def counts(bot: RunningBot) -> tuple[int, dict[str, int]]:
    async with bot.handoff.uow() as uow:
        leads = await uow.session.scalar(select(func.count()).select_from(Lead))
        rows = dict(
            (await uow.session.execute(select(Outbox.status, func.count()).group_by(Outbox.status))).all()
        )
    return int(leads or 0), {str(k): int(v) for k, v in rows.items()}


async def test_uninstall_stops_jobs_and_deliveries_keeps_the_data(bot: RunningBot, caplog: Any) -> None:
    team = await bot.handoff.default_team_id()
    assert await bot.handoff.team_ids() == [team]
    await add_lead(bot.handoff)  # its card is still queued when the app goes away
    bot.fake.revoke_token(bot.fake.bot_token)  # Slack revokes the tokens of an uninstalled app
    with caplog.at_level(logging.WARNING):
        reply = await bot.slack.event({"type": "app_uninstalled"})
    assert reply.status == 200
    assert "uninstalled (app_uninstalled)" in caplog.text and "data is kept" in caplog.text
    assert await bot.handoff.team_ids() == []  # no scheduled work for it any more
    await bot.flush()
    assert bot.fake.calls_to("chat.postMessage") == []  # nothing sent with a dead token
    leads, rows = await counts(bot)
    assert leads == 1 and rows.get("pending", 0) == 0  # the lead is kept; its card is not retried
    [gone] = await bot.handoff.uninstalled_workspaces()
    text = status_text({"depth": 0, "failed": 1}, now=bot.clock.now(), uninstalled=[gone])
    assert f"Workspace {team} uninstalled (app_uninstalled" in text and "data is kept" in text


async def test_installing_again_with_a_new_token_resumes(
    bot: RunningBot, engine: Any, fake_slack: Any, clock: Any, database_url: str
) -> None:
    team = await bot.handoff.default_team_id()
    bot.fake.revoke_token(bot.fake.bot_token)
    await bot.slack.event({"type": "app_uninstalled"})
    assert await bot.handoff.team_ids() == []
    fake_slack.add_token("xoxb-reinstalled", team_id=fake_slack.team_id, team_name=fake_slack.team_name)
    settings = make_settings(database_url, fake_slack, slack_bot_token="xoxb-reinstalled")
    async with serve_bot(engine, fake_slack, clock, settings) as again:
        assert await again.handoff.team_ids() == [team]
        assert await again.handoff.uninstalled_workspaces() == []
        await add_lead(again.handoff, email="new@acme.com")
        await again.flush()
        assert len(fake_slack.messages(SALES)) == 1
        reply = await again.slack.command(ADMIN, "/handoff", "status")
        assert "uninstalled" not in reply.text


async def test_revoked_user_tokens_change_nothing_but_a_revoked_bot_token_stops(bot: RunningBot) -> None:
    team = await bot.handoff.default_team_id()
    await bot.slack.event({"type": "tokens_revoked", "tokens": {"oauth": ["U0ADMIN"]}})
    assert await bot.handoff.team_ids() == [team]
    await bot.slack.event({"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]}})
    assert await bot.handoff.team_ids() == []
    [gone] = await bot.handoff.uninstalled_workspaces()
    assert gone.why == "tokens_revoked"


async def test_oauth_uninstall_deletes_the_installation_and_a_reinstall_brings_it_back(
    oauth_bot: RunningBot,  # noqa: F811
) -> None:
    assert (await install(oauth_bot, team_id=TEAM_B, token=TOKEN_B, code="code-u1")).startswith("200")
    assert await oauth_bot.handoff.team_ids() == [TEAM_B]
    envelope = {
        "type": "event_callback",
        "team_id": TEAM_B,
        "api_app_id": oauth_bot.fake.app_id,
        "event_id": "Ev0UNINSTALL",
        "event_time": 1,
        "event": {"type": "app_uninstalled"},
        "authorizations": [{"team_id": TEAM_B, "enterprise_id": None, "is_bot": True, "user_id": "U0BOT"}],
    }
    reply = await oauth_bot.slack.send_raw(json.dumps(envelope), content_type="application/json")
    assert reply.status == 200
    async with oauth_bot.handoff.engine.connect() as conn:
        assert (await conn.execute(select(SLACK_BOTS.c.team_id))).all() == []
    assert await oauth_bot.handoff.team_ids() == []
    assert [u.team_id for u in await oauth_bot.handoff.uninstalled_workspaces()] == [TEAM_B]
    assert (await install(oauth_bot, team_id=TEAM_B, token=TOKEN_B + "2", code="code-u2")).startswith("200")
    assert await oauth_bot.handoff.team_ids() == [TEAM_B]
    assert await oauth_bot.handoff.uninstalled_workspaces() == []
