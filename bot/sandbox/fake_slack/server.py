"""The aiohttp app and the public ``FakeSlack``: it reads a Web API call, lets ``Faults`` misbehave,
checks the token, dispatches by method name to the family mixins and answers in Slack's shapes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.sandbox.fake_slack.auth import AuthMethods
from bot.sandbox.fake_slack.chat import ChatMethods
from bot.sandbox.fake_slack.conversations import ConversationsMethods
from bot.sandbox.fake_slack.faults import Faults, RateLimited
from bot.sandbox.fake_slack.files import FilesMethods
from bot.sandbox.fake_slack.models import ApiCall, Handler, SlackError
from bot.sandbox.fake_slack.responses import ResponseUrls
from bot.sandbox.fake_slack.socket_mode import SocketModeSide
from bot.sandbox.fake_slack.state import SlackState
from bot.sandbox.fake_slack.users import UsersMethods
from bot.sandbox.fake_slack.views import ViewsMethods

__all__ = ["FakeSlack"]

# Arguments that form-encoded callers send as JSON strings.
_JSON_ARGS = ("blocks", "attachments", "view", "metadata", "files")


class FakeSlack(
    ChatMethods,
    ViewsMethods,
    ConversationsMethods,
    UsersMethods,
    AuthMethods,
    FilesMethods,
    ResponseUrls,
    SocketModeSide,
    Faults,
    SlackState,
):
    """An aiohttp server that behaves like Slack for one (or more, via OAuth) workspace.

    The state lives in ``SlackState``; each Web API family is a mixin over it and ``Faults`` holds
    the misbehaviour knobs. Handlers take ``(args, token identity)`` and return the answer body.
    """

    def __init__(
        self,
        *,
        team_id: str = "T0HANDOFF",
        team_name: str = "Handoff Test",
        bot_token: str = "xoxb-test-token",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        app_id: str = "A0HANDOFF",
        clock: Callable[[], float] = time.time,
    ) -> None:
        SlackState.__init__(
            self,
            team_id=team_id,
            team_name=team_name,
            bot_token=bot_token,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
            clock=clock,
        )
        Faults.__init__(self)
        self._init_socket_mode()
        self._runner: web.AppRunner | None = None
        self.add_user(bot_user_id, name="handoff", real_name="Handoff", is_bot=True)

    # ------------------------------------------------------------------ server lifecycle

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        app.router.add_get("/link/", self._handle_socket)  # Socket Mode
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeSlack:
        # Short shutdown: a "timeout" misbehaviour must not hold up test teardown.
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None)  # asyncio.Server's, once started
        assert sockets
        self._host = host
        self._port = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        await self._close_sockets()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ HTTP: Web API dispatch

    async def _read_args(self, request: web.Request) -> tuple[dict[str, Any], str | None]:
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    args.update(body)
            else:
                form = await request.post()
                args.update({k: v for k, v in form.items() if isinstance(v, str)})
        for key in _JSON_ARGS:
            if isinstance(args.get(key), str) and args[key].strip()[:1] in ("[", "{"):
                try:
                    args[key] = json.loads(args[key])
                except json.JSONDecodeError:
                    pass  # left as a string; the method answers with Slack's error for it
        token = args.pop("token", None)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer ") :].strip()
        return args, token

    @staticmethod
    def _reset(request: web.Request) -> web.StreamResponse:
        # Drop the connection without answering, like a load balancer reset.
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError

    def _json(
        self,
        call: ApiCall | None,
        body: dict[str, Any],
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        if call is not None:
            call.response = body
            call.status = status
        return web.json_response(body, status=status, headers=headers)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args, token = await self._read_args(request)
        call = ApiCall(method=method, args=args, response=None, status=0, at=self.clock())
        self.calls.append(call)
        if self._unreachable:
            return self._reset(request)
        failure = self._take_failure(method)
        if failure is not None:
            if failure.kind == "reset":
                return self._reset(request)
            if failure.kind == "ratelimited":
                return self._json(
                    call,
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(failure.retry_after)},
                )
            if failure.kind == "server_error":
                return self._json(call, {"ok": False, "error": failure.error}, status=failure.status)
            if failure.kind == "error":
                return self._json(call, {"ok": False, "error": failure.error})
            if failure.kind == "timeout":
                await asyncio.sleep(failure.delay)
            if failure.kind == "lost":
                handler = self._methods().get(method)
                if handler is not None and token in self._tokens:
                    try:
                        body = handler(args, self._tokens[token])
                        call.response, call.status = {"ok": True, **body}, 0  # done, never answered
                    except (SlackError, RateLimited):
                        pass
                if failure.delay:
                    await asyncio.sleep(failure.delay)  # the answer hangs, then the connection drops
                return self._reset(request)
        latency = self._latency_for(method)
        if latency:
            await asyncio.sleep(latency)

        if method == "apps.connections.open":
            try:
                return self._json(call, {"ok": True, **self._apps_connections_open(token)})
            except SlackError as e:
                return self._json(call, {"ok": False, "error": e.error})
        handler = self._methods().get(method)
        if handler is None:
            return self._json(call, {"ok": False, "error": "unknown_method", "req_method": method})
        identity: dict[str, Any] | None = None
        if method != "oauth.v2.access":
            if not token:
                return self._json(call, {"ok": False, "error": "not_authed"})
            identity = self._tokens.get(token)
            if identity is None:
                return self._json(call, {"ok": False, "error": "invalid_auth"})
        try:
            body = handler(args, identity)
        except RateLimited as rl:
            self.rate_limited_count += 1
            return self._json(
                call,
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(rl.retry_after)},
            )
        except SlackError as e:
            return self._json(call, {"ok": False, "error": e.error, **e.extra})
        return self._json(call, {"ok": True, **body})

    def _methods(self) -> dict[str, Handler]:
        return {
            "api.test": lambda a, i: {"args": a},
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.delete": self._chat_delete,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.join": self._conversations_join,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "oauth.v2.access": self._oauth_v2_access,
        }
