"""A response_url is followed only to Slack (https, *.slack.com) and the configured SLACK_API_URL:
a signed payload naming any other host gets its answer nowhere, and a warning without the body."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from bot.slack.response_urls import response_url_allowed
from tests.conftest import OUTSIDER, REP1, SALES, RunningBot
from tests.reliability.helpers import add_lead


@pytest.fixture
async def thief() -> AsyncIterator[tuple[str, list[str]]]:
    """A server that records what reaches it: where a stolen answer would land."""
    hits: list[str] = []

    async def steal(request: web.Request) -> web.Response:
        hits.append(await request.text())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/steal", steal)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/steal", hits
    await runner.cleanup()


def send_answers_to(bot: RunningBot, url: str) -> None:
    """Every payload the driver signs from now on carries `url` as its response_url."""
    bot.fake.issue_response_url = lambda **_: url  # type: ignore[method-assign]


def refusals(caplog: Any) -> list[str]:
    return [r.getMessage() for r in caplog.records if "response_url" in r.getMessage()]


async def test_a_click_answer_never_goes_to_a_foreign_response_url(
    bot: RunningBot, thief: tuple[str, list[str]], caplog: Any
) -> None:
    caplog.set_level(logging.INFO)
    url, hits = thief
    await add_lead(bot.handoff)
    await bot.flush()
    send_answers_to(bot, url)
    reply = await bot.slack.click(OUTSIDER, "Claim", channel_id=SALES)  # refused: answered via respond
    assert reply.status == 200
    await asyncio.sleep(0.2)
    assert hits == []
    warnings = refusals(caplog)
    assert warnings and all("127.0.0.1" in w and "steal" not in w and "{" not in w for w in warnings)


async def test_a_command_answer_after_its_ack_never_goes_to_a_foreign_response_url(
    bot: RunningBot, thief: tuple[str, list[str]], caplog: Any
) -> None:
    caplog.set_level(logging.INFO)
    url, hits = thief
    lead_id = await add_lead(bot.handoff)
    await bot.flush()
    send_answers_to(bot, url)
    # acked first, the answer ("not yours") follows through the response_url
    reply = await bot.slack.command(REP1, "/lead", f"status {lead_id} contacted", channel_id=SALES)
    assert reply.status == 200
    await asyncio.sleep(0.2)
    assert hits == []
    assert refusals(caplog)


async def test_a_late_answer_from_the_edge_never_goes_to_a_foreign_response_url(
    bot: RunningBot, thief: tuple[str, list[str]], caplog: Any
) -> None:
    caplog.set_level(logging.INFO)
    url, hits = thief
    send_answers_to(bot, url)
    bot.fake.set_latency(4.0)  # the ack cannot carry the help text: the edge sends it later
    try:
        reply = await bot.slack.command(REP1, "/handoff", "help", channel_id=SALES)
        assert reply.status == 200
        for _ in range(60):
            if refusals(caplog):
                break
            await asyncio.sleep(0.1)
    finally:
        bot.fake.set_latency(0)
    assert hits == []
    assert any("late answer" in w for w in refusals(caplog)), refusals(caplog)


async def test_slacks_own_response_urls_are_still_answered(bot: RunningBot) -> None:
    await add_lead(bot.handoff)
    await bot.flush()
    await bot.slack.click(OUTSIDER, "Claim", channel_id=SALES)
    [refusal] = bot.fake.ephemerals(OUTSIDER)
    assert refusal.source == "response_url"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.slack.com/actions/T1/1/abc", True),
        ("https://hooks.slack.com:443/commands/T1/1/abc", True),
        ("https://app.slack.com/x", True),
        ("http://hooks.slack.com/actions/T1/1/abc", False),  # not over https
        ("https://hooks.slack.com.evil.example/x", False),
        ("https://evilslack.com/x", False),
        ("https://hooks.slack.com@evil.example/x", False),
        ("https://evil.example\\@hooks.slack.com/x", False),
        ("https://hooks.slack.com:8443/x", False),
        ("http://127.0.0.1:9999/api/x", False),  # the fake's host, another port
        ("http://127.0.0.1:8000/response/T-1-a", True),  # SLACK_API_URL's origin
        ("https://127.0.0.1:8000/response/T-1-a", False),
        ("javascript:alert(1)", False),
        ("", False),
        ("https://hooks.slack.com/a b", False),
    ],
)
def test_which_response_urls_are_followed(url: str, allowed: bool) -> None:
    assert response_url_allowed(url, api_url="http://127.0.0.1:8000/api/") is allowed
