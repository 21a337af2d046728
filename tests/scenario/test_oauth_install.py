"""Multi-workspace install through OAuth, on slack_sdk's stores and our engine; data stays per team."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from sqlalchemy import select

from bot.domain.lead_input import parse_lead
from bot.services.intake import submit_lead
from bot.storage.models import SLACK_BOTS, Lead
from tests.conftest import RunningBot, oauth_settings, serve_bot

TEAM_B, TOKEN_B = "T0SECOND", "xoxb-second-team"


@pytest.fixture
async def oauth_bot(engine, fake_slack, clock, database_url) -> AsyncIterator[RunningBot]:
    settings = oauth_settings(
        database_url,
        fake_slack,
        sales_channel="C0SALESB",
    )
    async with serve_bot(engine, fake_slack, clock, settings) as running:
        yield running


async def install(
    bot: RunningBot, *, team_id: str, token: str, code: str, installer: str = "U0INSTALLER"
) -> str:
    bot.fake.add_token(token, team_id=team_id, team_name="Second")
    bot.fake.set_oauth_code(code, team_id=team_id, bot_token=token, authed_user_id=installer)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{bot.url}/slack/install", allow_redirects=False) as resp:
            assert resp.status in (200, 302)
            body = await resp.text()
            cookie = resp.headers.get("Set-Cookie", "")
            location = resp.headers.get("Location") or re.search(r'<a href="([^"]+)"', body).group(1)
        state = parse_qs(urlparse(location.replace("&amp;", "&")).query)["state"][0]
        # the state cookie is Secure; a plain-http test client would not send it back by itself
        headers = {"Cookie": cookie.split(";", 1)[0]}
        async with session.get(
            f"{bot.url}/slack/oauth_redirect", params={"code": code, "state": state}, headers=headers
        ) as resp:
            return f"{resp.status} {await resp.text()}"


async def test_oauth_install_stores_the_bot_and_commands_work_for_that_team(oauth_bot: RunningBot) -> None:
    result = await install(oauth_bot, team_id=TEAM_B, token=TOKEN_B, code="code-b")
    assert result.startswith("200"), result
    async with oauth_bot.handoff.engine.connect() as conn:
        rows = (await conn.execute(select(SLACK_BOTS.c.team_id, SLACK_BOTS.c.bot_token))).all()
    assert [r.team_id for r in rows] == [TEAM_B]

    oauth_bot.fake.add_user("U0B1", name="bea")
    # the driver speaks as the fake's own team; this command comes from the installed team
    status, body = await _command_for_team(oauth_bot, TEAM_B, "U0B1", "/handoff", "help")
    assert status == 200 and "/lead" in body
    assert await oauth_bot.handoff.team_ids() == [TEAM_B]


async def test_an_unknown_workspace_gets_no_answer_with_data(oauth_bot: RunningBot) -> None:
    status, body = await _command_for_team(oauth_bot, "T0NEVERINSTALLED", "U0X", "/handoff", "help")
    assert "/lead" not in body and status != 500


async def test_leads_are_scoped_by_team(oauth_bot: RunningBot) -> None:
    await install(oauth_bot, team_id=TEAM_B, token=TOKEN_B, code="code-b2")
    oauth_bot.fake.add_channel("C0SALESB", name="sales-b")
    for team in (TEAM_B, "T0OTHER"):
        async with oauth_bot.handoff.open_context(team) as ctx:
            await submit_lead(ctx, parse_lead({"email": "same@acme.com", "source": "web"}), origin="api")
    async with oauth_bot.handoff.uow() as uow:
        mine = await uow.leads.search(TEAM_B, "same@acme.com")
        theirs = await uow.leads.search("T0OTHER", "same@acme.com")
        assert len(mine) == 1 and len(theirs) == 1 and mine[0].id != theirs[0].id
        assert await uow.leads.get(TEAM_B, theirs[0].id) is None
        total = (await uow.session.execute(select(Lead.team_id))).scalars().all()
    assert sorted(total) == ["T0OTHER", TEAM_B]


async def _command_for_team(
    bot: RunningBot, team_id: str, user_id: str, command: str, text: str
) -> tuple[int, str]:
    from urllib.parse import urlencode

    body = urlencode(
        {
            "token": "x",
            "team_id": team_id,
            "team_domain": "second",
            "channel_id": "C0SALESB",
            "channel_name": "sales-b",
            "user_id": user_id,
            "user_name": "bea",
            "command": command,
            "text": text,
            "api_app_id": bot.fake.app_id,
            "is_enterprise_install": "false",
            "response_url": bot.fake.issue_response_url(channel_id="C0SALESB", user_id=user_id),
            "trigger_id": bot.fake.issue_trigger(user_id),
        }
    )
    reply = await bot.slack.send_raw(body, content_type="application/x-www-form-urlencoded")
    return reply.status, reply.body
