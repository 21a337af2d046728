"""Slack's ssl_check: an unsigned form POST to a slash command's URL, answered 200 with no work
(as Bolt's SslCheck middleware does); anything else unsigned is still a 401."""

from __future__ import annotations

import aiohttp

from tests.conftest import RunningBot


async def post(bot: RunningBot, body: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{bot.url}/slack/events",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as resp:
            return resp.status, await resp.text()


async def test_unsigned_ssl_check_is_answered_200_and_does_nothing(bot: RunningBot) -> None:
    status, text = await post(bot, "ssl_check=1&token=legacy-verification-token")
    assert (status, text) == (200, "")
    # a command smuggled into an ssl_check still runs nothing
    status, text = await post(bot, "ssl_check=1&command=%2Fhandoff&text=status&user_id=U0ADMIN")
    assert (status, text) == (200, "")
    assert bot.fake.calls_to("auth.test") == [] and bot.fake.ephemeral_messages == []


async def test_other_unsigned_requests_are_still_refused(bot: RunningBot) -> None:
    for body in ("ssl_check=0", "command=%2Fhandoff&text=help", "ssl_check=1x"):
        status, _ = await post(bot, body)
        assert status == 401, body
