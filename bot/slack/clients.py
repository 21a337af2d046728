"""Web API clients: one per workspace token, all pointed at SLACK_API_URL."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient


class NoInstallation(Exception):
    """No bot token is known for a workspace (not installed, or uninstalled)."""


class SlackClients:
    """Two flavours: `direct` retries briefly (for calls a person is waiting on), `outbox` never
    retries by itself because the outbox sender owns retries, pacing and giving up."""

    def __init__(
        self,
        *,
        base_url: str,
        bot_token: str | None = None,
        installation_store: AsyncInstallationStore | None = None,
        timeout: float = 10,
    ) -> None:
        self.base_url = base_url
        self._bot_token = bot_token
        self._store = installation_store
        self._timeout = timeout
        self._cache: dict[tuple[str, str], AsyncWebClient] = {}
        self._auth_test: Any = None  # the bot token's auth.test answer, once per process
        self._auth_test_lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None
        self._extra: list[AsyncWebClient] = []
        self._bot_token_gone = False

    async def open_session(self, *also: AsyncWebClient) -> None:
        """Share one aiohttp session (keep-alive connections) among every Web API client.

        Without it slack_sdk opens a new session, so a new TCP (and, to slack.com, TLS) connection,
        for every call: the profile of a Claim click showed the connect on the click's path. The
        session's timeout replaces the per-client one, which slack_sdk only applies to sessions it
        creates. `also` are clients made elsewhere (Bolt's) that should share it too."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        self._extra = list(also)
        for client in [*self._cache.values(), *self._extra]:
            client.session = self._session

    async def aclose(self) -> None:
        session, self._session = self._session, None
        for client in [*self._cache.values(), *self._extra]:
            client.session = None
        if session is not None:
            await session.close()

    async def token_for(self, team_id: str | None) -> str:
        if self._store is not None and team_id:
            bot = await self._store.async_find_bot(enterprise_id=None, team_id=team_id)
            if bot is not None and bot.bot_token:
                return bot.bot_token
            if self._bot_token is None:
                raise NoInstallation(team_id)
        if self._bot_token is None or self._bot_token_gone:
            raise NoInstallation(team_id)
        return self._bot_token

    def forget_bot_token(self) -> None:
        """The single workspace uninstalled the app: its token is dead, so nothing is sent with it."""
        self._bot_token_gone = True

    def _client(self, token: str, flavour: str) -> AsyncWebClient:
        key = (token, flavour)
        if key not in self._cache:
            handlers = (
                [
                    AsyncConnectionErrorRetryHandler(max_retry_count=1),
                    AsyncRateLimitErrorRetryHandler(max_retry_count=1),
                ]
                if flavour == "direct"
                else []
            )
            self._cache[key] = AsyncWebClient(
                token=token,
                base_url=self.base_url,
                timeout=self._timeout,  # type: ignore[arg-type]  # seconds; aiohttp takes a float
                retry_handlers=handlers,
                session=self._session,
            )
        return self._cache[key]

    async def direct(self, team_id: str | None) -> AsyncWebClient:
        return self._client(await self.token_for(team_id), "direct")

    async def outbox(self, team_id: str | None) -> AsyncWebClient:
        return self._client(await self.token_for(team_id), "outbox")

    async def default_team_id(self) -> str | None:
        """The single workspace's team (auth.test on the bot token), for doors outside Slack."""
        if self._bot_token is None:
            return None
        return (await self.auth_test()).get("team_id")

    async def auth_test(self) -> Any:
        """auth.test on the single-workspace bot token, asked once per process and shared by Bolt's
        authorization (bot/slack/authorize.py) and everything else that needs the workspace's
        identity. Concurrent first callers wait for the one call; a failure is not remembered."""
        if self._bot_token is None:
            raise NoInstallation("no SLACK_BOT_TOKEN")
        if self._auth_test is None:
            async with self._auth_test_lock:
                if self._auth_test is None:
                    self._auth_test = await self._client(self._bot_token, "direct").auth_test()
        return self._auth_test

    @property
    def bot_token(self) -> str | None:
        return self._bot_token
