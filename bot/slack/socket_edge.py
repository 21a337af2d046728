"""Socket Mode's edge: the app-level token checked at start, a connection kept with backoff, and
every envelope acked through the same AckDispatcher as HTTP mode (bot/slack/edge.py).

Bolt's AsyncSocketModeHandler acks when the listener returns (so a slow Slack acked clicks after
4 s), never acks what no listener handled or what failed (so Slack redelivers it and the person gets
no apology), and its client retries a refused token forever inside start-up. Here: a refused token
is an AppTokenRefused at start; an unreachable Slack is retried in the background while the rest of
the bot runs, and `connected` says whether a socket is open; each envelope is acked exactly once,
at ACK_DEADLINE at the latest, with what the listener answered (a command's text, a modal's
response_action) when it answered in time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Sequence
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.edge import AckDispatcher, describe, payload_problem
from bot.slack.payloads import event_key

log = logging.getLogger(__name__)

APP_TOKEN_PREFIX = "xapp-"
# Slack's answers to apps.connections.open that no retry can change
REFUSED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "not_allowed_token_type",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "no_permission",
        "invalid_token",
        "app_missing_action_url",
    }
)


class AppTokenRefused(Exception):
    """SLACK_APP_TOKEN cannot open Socket Mode connections; the message says why in one line."""


class SocketModeEdge:
    def __init__(
        self,
        *,
        bolt: AsyncApp,
        dispatcher: AckDispatcher,
        app_token: str,
        api_url: str,
        ping_interval: float = 5.0,
        max_backoff: float = 60.0,
    ) -> None:
        self.bolt = bolt
        self.dispatcher = dispatcher
        self.app_token = app_token
        self.api_url = api_url
        self.ping_interval = ping_interval
        self.max_backoff = max_backoff
        self.client: SocketModeClient | None = None
        self._connecting: asyncio.Task[None] | None = None
        self.envelopes = 0  # acked envelopes, for logs and tests

    @property
    def connected(self) -> bool:
        client = self.client
        if client is None or client.closed or client.stale:
            return False
        session = client.current_session
        return session is not None and not session.closed

    async def open_url(self) -> str:
        """One apps.connections.open: the wss URL, AppTokenRefused, or an error worth retrying."""
        if not self.app_token.startswith(APP_TOKEN_PREFIX):
            raise AppTokenRefused(
                "SLACK_APP_TOKEN is not an app-level token (it starts with xapp-; "
                "create one with the connections:write scope under Basic Information)"
            )
        web = AsyncWebClient(base_url=self.api_url, token=self.app_token, timeout=10)
        try:
            answer = await web.apps_connections_open(app_token=self.app_token)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or f"http_{exc.response.status_code}")
            if error in REFUSED:
                raise AppTokenRefused(
                    f"Slack refused SLACK_APP_TOKEN (apps.connections.open: {error})"
                ) from None
            raise
        finally:
            session = getattr(web, "session", None)
            if session is not None:
                await session.close()
        return str(answer["url"])

    async def start(self) -> None:
        """Check the token once (AppTokenRefused ends start-up), then connect in the background:
        an unreachable Slack is retried with backoff while the outbox and scheduler run."""
        first: str | None = None
        try:
            first = await self.open_url()
        except AppTokenRefused:
            raise
        except Exception as exc:
            log.warning("Socket Mode: Slack not reachable at start (%s); retrying", _short(exc))
        self.client = SocketModeClient(
            app_token=self.app_token,
            web_client=AsyncWebClient(base_url=self.api_url, token=self.app_token),
            ping_interval=self.ping_interval,
            logger=logging.getLogger("slack_sdk.socket_mode"),
        )
        self.client.socket_mode_request_listeners.append(self._on_request)  # type: ignore[arg-type]
        self._connecting = asyncio.create_task(self._connect(first), name="socket-mode-connect")
        if first is not None:
            # a reachable Slack: connected before start() returns (the client retries a failed socket)
            await asyncio.wait({self._connecting}, timeout=10)

    async def _connect(self, url: str | None) -> None:
        delay = 1.0
        while url is None:
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            try:
                url = await self.open_url()
            except AppTokenRefused as exc:
                log.error("Socket Mode: %s; still retrying", exc)
            except Exception as exc:
                log.warning("Socket Mode: Slack not reachable (%s); next try in %.0fs", _short(exc), delay)
            delay = min(delay * 2, self.max_backoff)
        assert self.client is not None
        self.client.wss_uri = url
        await self.client.connect()  # from here the client reconnects by itself (disconnect, drops)
        log.info("Socket Mode connected")

    async def close(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        if self.client is not None and not self.client.closed:
            await self.client.close()
        await self.dispatcher.late.wait()

    async def _on_request(self, client: SocketModeClient, req: SocketModeRequest) -> None:
        payload = req.payload if isinstance(req.payload, dict) else {}
        is_event_body = req.type == "events_api"
        problem = (
            payload_problem(payload, is_event_body=is_event_body) if req.type != "slash_commands" else None
        )
        if problem is not None:
            log.warning("Socket Mode %s envelope acked without work: %s", req.type, problem)
            await self._ack(client, req, None)
            return
        headers: dict[str, str | Sequence[str]] = {}
        if req.retry_attempt:
            headers["x-slack-retry-num"] = str(req.retry_attempt)
            headers["x-slack-retry-reason"] = req.retry_reason or ""
        bolt_request = AsyncBoltRequest(body=payload, mode="socket_mode", headers=headers)
        kind, response_url = describe(payload, is_event_body=is_event_body)
        try:
            answer = await self.dispatcher.answer(
                bolt_request,
                kind=kind,
                response_url=response_url,
                is_event=is_event_body and event_key(payload) is not None,
            )
        except Exception as exc:  # Bolt itself failed: still ack, as HTTP mode would answer
            log.error("Socket Mode %s failed before its ack: %s", kind, _short(exc))
            answer = BoltResponse(status=500, body="")
        if answer.status != 200:
            # acked anyway: unacked envelopes come back again and again (a 404 is "no listener")
            log.info("Socket Mode %s answered %s; acked", kind, answer.status)
        await self._ack(client, req, _ack_payload(answer))

    async def _ack(
        self, client: SocketModeClient, req: SocketModeRequest, payload: dict[str, Any] | None
    ) -> None:
        try:
            await client.send_socket_mode_response(
                SocketModeResponse(envelope_id=req.envelope_id, payload=payload)
            )
            self.envelopes += 1
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            # Slack redelivers an envelope whose ack never arrived; events are deduplicated
            log.warning("Socket Mode ack of %s not sent: %s", req.type, _short(exc))


def _ack_payload(answer: BoltResponse) -> dict[str, Any] | None:
    if answer.status != 200 or not answer.body:
        return None
    content_type = (answer.headers.get("content-type") or [""])[0]
    if content_type.startswith("application/json"):
        try:
            body = json.loads(answer.body)
        except ValueError:
            return None
        return body if isinstance(body, dict) else None
    return {"text": answer.body}


def _short(exc: BaseException) -> str:
    return type(exc).__name__ + (f": {exc}" if str(exc) and len(str(exc)) < 120 else "")
