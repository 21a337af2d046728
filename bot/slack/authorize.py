"""Bolt's authorization in single-workspace mode, from one auth.test per process.

Bolt's own single-workspace authorization keeps its auth.test answer, but only for itself: the
outbox, the jobs and the API asked Slack again (SlackClients.default_team_id), and concurrent first
requests each called auth.test because its cache has no lock. Handing Bolt an `authorize` that
reads SlackClients' shared, locked answer makes it one call per process, whoever asks first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError

from bot.slack.clients import SlackClients


def single_workspace_authorize(clients: SlackClients) -> Callable[..., Awaitable[AuthorizeResult]]:
    # Bolt reads None as "not authorized" and tells the person; its annotation says otherwise
    async def authorize(**_: Any) -> AuthorizeResult:
        try:
            answer = await clients.auth_test()
        except SlackApiError:
            return None  # type: ignore[return-value]  # a revoked or wrong token
        return AuthorizeResult.from_auth_test_response(bot_token=clients.bot_token, auth_test_response=answer)

    return authorize
