"""The real app over HTTP: a signed /handoff help gets the help text; unsigned requests get 401."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from bot import __version__
from tests.conftest import ADMIN, REP1, SALES, RunningBot


async def test_signed_help_command_gets_help_text(bot: RunningBot) -> None:
    reply = await bot.slack.command(REP1, "/handoff", "help", channel_id=SALES)
    assert reply.status == 200
    assert "Handoff" in reply.text and "/lead" in reply.text


async def test_empty_handoff_command_also_answers_with_help(bot: RunningBot) -> None:
    reply = await bot.slack.command(REP1, "/handoff", "", channel_id=SALES)
    assert reply.status == 200 and "/targets" in reply.text


async def test_unknown_subcommand_says_so(bot: RunningBot) -> None:
    reply = await bot.slack.command(REP1, "/handoff", "frobnicate", channel_id=SALES)
    assert "frobnicate" in reply.text and "/handoff help" in reply.text


def _command_body() -> str:
    return urlencode({"command": "/handoff", "text": "help", "user_id": REP1, "team_id": "T0HANDOFF"})


async def test_bad_signature_is_401(bot: RunningBot) -> None:
    reply = await bot.slack.send_raw(
        _command_body(), content_type="application/x-www-form-urlencoded", signature="v0=" + "0" * 64
    )
    assert reply.status == 401


async def test_stale_timestamp_is_401_even_when_correctly_signed(bot: RunningBot) -> None:
    stale = str(int(time.time()) - 6 * 60)
    body = _command_body()
    reply = await bot.slack.send_raw(
        body,
        content_type="application/x-www-form-urlencoded",
        timestamp=stale,
        signature=bot.slack.sign(body, stale),
    )
    assert reply.status == 401


async def test_non_numeric_timestamp_is_401_not_500(bot: RunningBot) -> None:
    body = _command_body()
    reply = await bot.slack.send_raw(
        body,
        content_type="application/x-www-form-urlencoded",
        timestamp="abc",
        signature=bot.slack.sign(body, "abc"),
    )
    assert reply.status == 401


async def test_missing_signature_headers_is_401(bot: RunningBot) -> None:
    async with __import__("aiohttp").ClientSession() as session:
        async with session.post(f"{bot.url}/slack/events", data=_command_body()) as resp:
            assert resp.status == 401


async def test_healthz_reports_database(bot: RunningBot) -> None:
    async with __import__("aiohttp").ClientSession() as session:
        async with session.get(f"{bot.url}/healthz") as resp:
            assert resp.status == 200
            body = await resp.json()
            raw = json.dumps(body)
    assert body["status"] == "ok" and body["database"] == "ok"
    # nothing about the host for unauthenticated callers: no hostname:pid, version or mode
    assert set(body) == {"status", "database"}
    host = bot.handoff.instance_id.split(":")[0]
    assert host not in raw and __version__ not in raw


async def test_admins_see_which_instance_answered_in_handoff_status(bot: RunningBot) -> None:
    reply = await bot.slack.command(ADMIN, "/handoff", "status")
    assert f"Answered by instance `{bot.handoff.instance_id}`" in reply.text
    assert f"Handoff {__version__} · http mode" in reply.text
