"""response_urls: issued with interactions, they expire and wear out; they post, replace or delete."""

from __future__ import annotations

import copy
import json
import secrets
from typing import Any

from aiohttp import web

from bot.sandbox.fake_slack.models import Ephemeral, Response, ResponseUrl, SlackError, truthy
from bot.sandbox.fake_slack.state import SlackState

RESPONSE_URL_TTL = 30 * 60
RESPONSE_URL_USES = 5


class ResponseUrls(SlackState):
    """The response_urls handed to the bot and what Slack does with the payloads posted to them."""

    # ------------------------------------------------------------------ used by the driver

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

    # ------------------------------------------------------------------ HTTP: POST to a response_url

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
