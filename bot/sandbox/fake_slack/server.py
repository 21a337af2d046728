"""A faithful in-process fake of Slack's Web API, response_urls and file uploads.

Scenario tests point the bot's ``AsyncWebClient(base_url=fake.base_url)`` at it and then assert on
what a person would see (messages, threads, ephemerals, modals, Home). It keeps state like Slack,
answers with Slack's response shapes and error codes, validates Block Kit with ``slack_sdk.models``
plus Slack's size limits, and misbehaves on demand (429, 5xx, slow answers, dropped connections).
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.sandbox.fake_slack.chat import ChatMethods
from bot.sandbox.fake_slack.conversations import ConversationsMethods
from bot.sandbox.fake_slack.faults import Faults, RateLimited
from bot.sandbox.fake_slack.models import (
    ApiCall,
    Channel,
    Ephemeral,
    Message,
    Response,
    ResponseUrl,
    SlackError,
    UploadedFile,
    truthy,
)
from bot.sandbox.fake_slack.state import SlackState
from bot.sandbox.fake_slack.users import UsersMethods
from bot.sandbox.fake_slack.views import ViewsMethods

__all__ = [
    "ApiCall",
    "Channel",
    "Ephemeral",
    "FakeSlack",
    "Message",
    "Response",
    "UploadedFile",
]


RESPONSE_URL_TTL = 30 * 60
RESPONSE_URL_USES = 5
_JSON_ARGS = ("blocks", "attachments", "view", "metadata", "files")


class FakeSlack(ChatMethods, ViewsMethods, ConversationsMethods, UsersMethods, Faults, SlackState):
    """An aiohttp server that behaves like Slack for one (or more, via OAuth) workspace."""

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
        self._runner: web.AppRunner | None = None
        self.add_user(bot_user_id, name="handoff", real_name="Handoff", is_bot=True)

    # ------------------------------------------------------------------ server lifecycle

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeSlack:
        # Short shutdown: a "timeout" misbehaviour must not hold up test teardown.
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        self._host = host
        self._port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ state setup

    def add_token(
        self,
        token: str,
        *,
        team_id: str,
        team_name: str = "Other",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
    ) -> None:
        """Accept another bot token (e.g. a second workspace)."""
        self._tokens[token] = {
            "team_id": team_id,
            "team": team_name,
            "user_id": bot_user_id,
            "bot_id": bot_id,
        }

    def revoke_token(self, token: str) -> None:
        self._tokens.pop(token, None)

    def set_oauth_code(
        self,
        code: str,
        *,
        team_id: str,
        bot_token: str,
        team_name: str = "Installed Team",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        scope: str = "chat:write,commands,users:read",
        authed_user_id: str = "U0INSTALLER",
        enterprise_id: str | None = None,
    ) -> None:
        self._oauth_codes[code] = {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": authed_user_id},
            "scope": scope,
            "token_type": "bot",
            "access_token": bot_token,
            "bot_user_id": bot_user_id,
            "team": {"id": team_id, "name": team_name},
            "enterprise": {"id": enterprise_id} if enterprise_id else None,
            "is_enterprise_install": False,
            "_bot_id": bot_id,
        }

    def issue_response_url(
        self,
        *,
        channel_id: str | None,
        user_id: str | None,
        message_ts: str | None = None,
        ephemeral: Ephemeral | None = None,
    ) -> str:
        """A response_url; with message_ts (or ephemeral) replace/delete_original act on that message."""
        rid = f"{self.team_id}/{next(self._ids)}/{secrets.token_hex(12)}"
        self._response_urls[rid] = ResponseUrl(
            id=rid,
            channel=channel_id,
            user=user_id,
            message_ts=message_ts,
            issued_at=self.clock(),
            ephemeral=ephemeral,
        )
        return f"{self.url}response/{rid.replace('/', '-')}"

    # ------------------------------------------------------------------ human-view helpers

    @property
    def files(self) -> list[UploadedFile]:
        return [f for f in self.uploaded.values() if f.completed]

    # ------------------------------------------------------------------ HTTP: Web API

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

    def _methods(self) -> dict[str, Callable[[dict[str, Any], dict[str, Any] | None], dict[str, Any]]]:
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
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "oauth.v2.access": self._oauth_v2_access,
        }

    def _auth_test(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        assert ident is not None
        user = self.users.get(ident["user_id"], {})
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": ident["team"],
            "user": user.get("name", "handoff"),
            "team_id": ident["team_id"],
            "user_id": ident["user_id"],
            "bot_id": ident["bot_id"],
            "is_enterprise_install": False,
        }

    def _files_get_upload_url(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        if not args.get("filename"):
            raise SlackError("invalid_arguments")
        try:
            length = int(args.get("length"))  # type: ignore[arg-type]
        except (TypeError, ValueError) as e:
            raise SlackError("invalid_arguments") from e
        fid = self._new_id("F")
        self.uploaded[fid] = UploadedFile(
            id=fid, filename=str(args["filename"]), length=length, alt_txt=args.get("alt_txt")
        )
        return {"upload_url": f"{self.url}upload/v1/{fid}", "file_id": fid}

    def _files_complete_upload(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments")
        chosen: list[UploadedFile] = []
        for item in files:
            up = self.uploaded.get(str(item.get("id")))
            if up is None or up.content is None:
                raise SlackError("file_not_found")
            up.title = item.get("title") or up.filename
            chosen.append(up)
        channel_id = args.get("channel_id") or (str(args.get("channels") or "").split(",")[0] or None)
        thread_ts = args.get("thread_ts")
        ch = None
        if channel_id:
            ch = self._resolve_channel(channel_id, for_post=True)
            self._check_can_post(ch)
            if thread_ts and self.message(ch.id, str(thread_ts)) is None:
                raise SlackError("invalid_thread_ts")
        for up in chosen:
            up.completed = True
            up.channel = ch.id if ch else None
            up.thread_ts = thread_ts
            up.initial_comment = args.get("initial_comment")
        if ch is not None:
            payload = {"text": args.get("initial_comment") or "", "thread_ts": thread_ts}
            self._store_message(
                ch.id,
                payload,
                user=self.bot_user_id,
                bot=True,
                files=[f.to_dict() for f in chosen],
                subtype=None,
            )
        return {"files": [{"id": f.id, "title": f.title} for f in chosen]}

    def _oauth_v2_access(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        grant = self._oauth_codes.pop(str(args.get("code") or ""), None)
        if grant is None:
            raise SlackError("invalid_code")
        out = copy.deepcopy(grant)
        bot_id = out.pop("_bot_id")
        out.pop("ok")
        self._tokens[out["access_token"]] = {
            "team_id": out["team"]["id"],
            "team": out["team"]["name"],
            "user_id": out["bot_user_id"],
            "bot_id": bot_id,
        }
        return out

    # ------------------------------------------------------------------ HTTP: uploads and response_urls

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        up = self.uploaded.get(request.match_info["file_id"])
        data = await request.read()
        if up is None:
            return web.Response(status=404, text="file_not_found")
        up.content = data
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        rid = request.match_info["rid"].replace("-", "/")
        ru = self._response_urls.get(rid)
        if ru is None:
            return web.json_response({"ok": False, "error": "invalid_url"}, status=404)
        if self.clock() - ru.issued_at > RESPONSE_URL_TTL:
            return web.json_response({"ok": False, "error": "expired_url"}, status=404)
        if ru.uses >= RESPONSE_URL_USES:
            return web.json_response({"ok": False, "error": "used_url"}, status=404)
        try:
            payload = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
        if not isinstance(payload, dict):
            return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
        if isinstance(payload.get("blocks"), str):
            payload["blocks"] = json.loads(payload["blocks"])
        ru.uses += 1
        try:
            self.apply_response(ru, payload)
        except SlackError as e:
            return web.json_response({"ok": False, "error": e.error, **e.extra}, status=400)
        return web.json_response({"ok": True})

    def apply_response(self, ru: ResponseUrl, payload: dict[str, Any]) -> Response:
        """Do what Slack does with a response_url payload."""
        delete = truthy(payload.get("delete_original"))
        replace = truthy(payload.get("replace_original"))
        rtype = payload.get("response_type") or "ephemeral"
        if not delete:
            self._check_message(payload, where=f"response_url payload ({rtype})")
        resp = Response(
            url=ru.id,
            channel=ru.channel,
            user=ru.user,
            payload=copy.deepcopy(payload),
            response_type=rtype,
            replace_original=replace,
            delete_original=delete,
            at=self.clock(),
        )
        self.responses.append(resp)
        source = self.message(ru.channel, ru.message_ts) if ru.channel and ru.message_ts else None
        eph = ru.ephemeral
        if eph is not None and (delete or replace):
            # The original was ephemeral: Slack swaps or removes it for that user only.
            if delete:
                self.ephemeral_messages = [e for e in self.ephemeral_messages if e is not eph]
            else:
                eph.text = str(payload.get("text") or "")
                eph.blocks = list(payload.get("blocks") or [])
        elif delete:
            if source is not None:
                self._delete_message(source)
        elif replace and source is not None:
            self._edit_message(
                source, {"text": payload.get("text", ""), "blocks": payload.get("blocks") or []}
            )
        elif rtype == "in_channel" and ru.channel:
            self._store_message(ru.channel, payload, user=self.bot_user_id, bot=True)
        elif ru.channel and ru.user:
            self.record_ephemeral(
                channel=ru.channel,
                user=ru.user,
                text=str(payload.get("text") or ""),
                blocks=payload.get("blocks"),
                thread_ts=payload.get("thread_ts"),
                source="response_url",
            )
        return resp
