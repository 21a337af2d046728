"""The Slack side that talks TO the bot: signed slash commands, clicks, submissions and events.

Each request is shaped and signed the way Slack sends it, and acks are applied to the fake's state
the way Slack applies them (ephemeral ack replies, view_submission response_action on the stack).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from slack_sdk.signature import Clock as SignatureClock
from slack_sdk.signature import SignatureVerifier

from bot.ids import ESCAPED_COMMANDS
from bot.sandbox.fake_slack import Ephemeral, FakeSlack, Message
from bot.sandbox.render import buttons, inputs, option_text, selects, visible_text
from bot.slack.payloads import as_typed

__all__ = ["Reply", "SlackDriver", "SocketModeDriver"]


# The bot acks a command empty at its deadline (2.5 s; Slack's own is 3) and answers on the
# response_url when its listener ends: the person sees that answer a moment later. An empty ack
# this slow is that deadline, not a command whose answer is a modal.
LATE_ACK_AFTER = 2.0
LATE_ANSWER_WAIT = 15.0


@dataclass
class Reply:
    status: int
    body: str
    json: Any = None
    text: str = ""
    errors: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    ack_seconds: float = 0.0  # how long the ack took
    late: bool = False  # the text came after the ack, through the response_url

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class SlackDriver:
    """Sends Slack-shaped, signed HTTP requests to the bot and mirrors Slack's reaction to acks."""

    def __init__(
        self,
        *,
        fake: FakeSlack,
        bot_url: str,
        signing_secret: str,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.time,
        verification_token: str = "fake-verification-token",
    ) -> None:
        self.fake = fake
        self.bot_url = bot_url
        self.signing_secret = signing_secret
        self.clock = clock
        self.verification_token = verification_token
        self._session = session
        self._own_session = session is None
        self._verifier = SignatureVerifier(signing_secret, clock=_ClockAdapter(clock))
        # Slack Connect / Enterprise Grid: the acting person's organisation when it is not the
        # fake's workspace (see acting_as); interactions then carry that `team` and `enterprise`
        self.acting_team: str | None = None
        self.acting_enterprise: str | None = None
        self.enterprise_install = False

    def acting_as(
        self, team_id: str | None, *, enterprise_id: str | None = None, org_wide: bool = False
    ) -> None:
        """Interactions from now on come from a person of `team_id` (a Slack Connect partner, or
        another workspace of the Grid `enterprise_id`); `org_wide` is an org-wide installation, whose
        interaction payloads may carry no `team`. None: back to the fake's own workspace."""
        self.acting_team, self.acting_enterprise, self.enterprise_install = team_id, enterprise_id, org_wide

    async def __aenter__(self) -> SlackDriver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ signing / transport

    def sign(self, body: str | bytes, timestamp: str) -> str:
        text = body.decode() if isinstance(body, bytes) else body
        signature = self._verifier.generate_signature(timestamp=timestamp, body=text)
        assert signature is not None
        return signature

    async def send_raw(
        self,
        body: str | bytes,
        *,
        content_type: str,
        timestamp: str | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        ts = timestamp if timestamp is not None else str(int(self.clock()))
        hdrs = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature if signature is not None else self.sign(body, ts),
        }
        hdrs.update(headers or {})
        if self._session is None:
            self._session = aiohttp.ClientSession()
        data = body.encode() if isinstance(body, str) else body
        async with self._session.post(self.bot_url, data=data, headers=hdrs) as resp:
            raw = await resp.text()
            parsed: Any = None
            if raw:
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = None
            return Reply(status=resp.status, body=raw, json=parsed, headers=dict(resp.headers))

    async def _send_form(self, fields: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Reply:
        started = time.monotonic()
        reply = await self.send_raw(
            urlencode(fields), content_type="application/x-www-form-urlencoded", headers=headers
        )
        reply.ack_seconds = time.monotonic() - started
        return reply

    async def _send_payload(self, payload: dict[str, Any]) -> Reply:
        if self.acting_enterprise is not None:
            payload["enterprise"] = {"id": self.acting_enterprise, "name": "Grid"}
            payload["is_enterprise_install"] = self.enterprise_install
            if self.enterprise_install:
                payload["team"] = None
        return await self._send_form({"payload": json.dumps(payload)})

    # ------------------------------------------------------------------ shared shapes

    def _user(self, user_id: str) -> dict[str, Any]:
        name = self.fake.users.get(user_id, {}).get("name", user_id.lower())
        return {
            "id": user_id,
            "username": name,
            "name": name,
            "team_id": self.acting_team or self.fake.team_id,
        }

    def _team(self) -> dict[str, Any]:
        if self.acting_team:
            return {"id": self.acting_team, "domain": self.acting_team.lower()}
        return {"id": self.fake.team_id, "domain": self.fake.team_domain}

    def _channel_name(self, channel_id: str) -> str:
        ch = self.fake.channels.get(channel_id)
        if ch is None:
            return channel_id
        return "directmessage" if ch.is_im else ch.name

    def _action_ts(self) -> str:
        return f"{self.clock():.6f}"

    def _apply_ack_message(self, reply: Reply, *, channel_id: str, user_id: str, source: str = "ack") -> None:
        """A command/action ack body with text or blocks is shown to the user like Slack does."""
        body = reply.json if isinstance(reply.json, dict) else None
        if body is None:
            if reply.body and reply.ok:
                reply.text = reply.body
                self.fake.record_ephemeral(channel=channel_id, user=user_id, text=reply.body, source=source)
            return
        if not (body.get("text") or body.get("blocks")):
            return
        reply.text = visible_text(body)
        if body.get("response_type") == "in_channel":
            self.fake.post_as_bot(channel_id, body)
        else:
            self.fake.validate_message(body, where="command ack")
            self.fake.record_ephemeral(
                channel=channel_id,
                user=user_id,
                text=str(body.get("text") or ""),
                blocks=body.get("blocks"),
                source=source,
            )

    # ------------------------------------------------------------------ slash commands

    async def command(
        self, user_id: str, command: str, text: str = "", *, channel_id: str | None = None
    ) -> Reply:
        channel_id = channel_id or self.fake.im_channel(user_id)
        command = command if command.startswith("/") else "/" + command
        if command not in {c.value for c in ESCAPED_COMMANDS}:
            # as Slack sends it without escaping: what was typed (`@rita`, `#sales`), no IDs
            text = as_typed(
                text,
                user_name=lambda user: str(self._user(user)["name"]),
                channel_name=self._channel_name,
            )
        fields = {
            "token": self.verification_token,
            "team_id": self.fake.team_id,
            "team_domain": self.fake.team_domain,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": self._user(user_id)["name"],
            "command": command,
            "text": text,
            "api_app_id": self.fake.app_id,
            "is_enterprise_install": "false",
            "response_url": self.fake.issue_response_url(channel_id=channel_id, user_id=user_id),
            "trigger_id": self.fake.issue_trigger(user_id),
        }
        reply = await self._send_form(fields)
        self._apply_ack_message(reply, channel_id=channel_id, user_id=user_id)
        if reply.ok and not reply.text and reply.ack_seconds >= LATE_ACK_AFTER:
            await self._late_answer(
                reply, response_url=fields["response_url"], trigger_id=fields["trigger_id"]
            )
        return reply

    async def _late_answer(self, reply: Reply, *, response_url: str, trigger_id: str) -> None:
        """After a deadline ack: wait for the listener's answer on the response_url (the fake has
        shown it already) or for the modal it opens; the answer's words become the reply's."""
        if not response_url.startswith(f"{self.fake.url}response/"):
            return  # a test's own response_url: the answer goes there
        rid = response_url.rsplit("/", 1)[-1]
        deadline = time.monotonic() + LATE_ANSWER_WAIT
        while time.monotonic() < deadline:
            answer = next((r for r in self.fake.responses if r.url.replace("/", "-") == rid), None)
            if answer is not None:
                reply.text, reply.late = visible_text(answer.payload), True
                return
            if self.fake.trigger_used(trigger_id):
                return
            await asyncio.sleep(0.02)

    # ------------------------------------------------------------------ finding things to click

    def _candidate_messages(self, channel_id: str | None, message_ts: str | None) -> list[Message]:
        if channel_id is not None and message_ts is not None:
            msg = self.fake.message(channel_id, message_ts)
            if msg is None and not any(e.ts == message_ts for e in self.fake.ephemerals(channel=channel_id)):
                raise AssertionError(f"no message {message_ts} in {channel_id}")
            return [msg] if msg is not None else []  # else: an ephemeral, searched next
        if channel_id is not None:
            top = list(reversed(self.fake.messages(channel_id)))
            replies = [
                m for m in reversed(self.fake.messages(channel_id, include_threads=True)) if m.is_reply
            ]
            return top + replies
        msgs = list(reversed(self.fake.all_messages()))
        if message_ts is not None:
            msgs = [m for m in msgs if m.ts == message_ts]
        return msgs

    def _locate(
        self,
        user_id: str,
        match: Callable[[Any], list[dict[str, Any]]],
        *,
        what: str,
        channel_id: str | None,
        message_ts: str | None,
        view_user: str | None,
        home: bool,
    ) -> tuple[dict[str, Any], Message | Ephemeral | None, dict[str, Any] | None]:
        """Find (element, message, view) whose container holds a matching element."""
        seen: list[str] = []
        if view_user is not None or home:
            owner = view_user or user_id
            view = self.fake.home(owner) if home else self.fake.open_view(owner)
            if view is None:
                raise AssertionError(f"{owner} has no {'Home' if home else 'open modal'}")
            found = match(view)
            if found:
                return found[0], None, view
            seen.extend(b["text"] for b in buttons(view))
            raise AssertionError(f"{what} not found in view {view['id']}; visible buttons: {seen}")
        for msg in self._candidate_messages(channel_id, message_ts):
            found = match(msg.to_dict())
            if found:
                return found[0], msg, None
            seen.extend(f"{b['text']} (in {msg.channel}/{msg.ts})" for b in buttons(msg.blocks))
        # Then what only this user sees.
        for eph in reversed(self.fake.ephemerals(user_id, channel=channel_id)):
            if message_ts is not None and eph.ts != message_ts:
                continue
            found = match(eph.blocks)
            if found:
                return found[0], eph, None
            seen.extend(f"{b['text']} (ephemeral in {eph.channel})" for b in buttons(eph.blocks))
        raise AssertionError(f"{what} not found; visible buttons: {seen or 'none'}")

    def _container_payload(
        self, user_id: str, msg: Message | Ephemeral | None, view: dict[str, Any] | None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.fake.app_id,
            "token": self.verification_token,
            "trigger_id": self.fake.issue_trigger(user_id),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = view
            payload["state"] = view.get("state") or {"values": {}}
        elif isinstance(msg, Ephemeral):
            # Slack sends no `message` for ephemeral sources; response_url is the way to change it.
            payload["container"] = {
                "type": "message",
                "message_ts": msg.ts,
                "channel_id": msg.channel,
                "is_ephemeral": True,
            }
            payload["channel"] = {"id": msg.channel, "name": self._channel_name(msg.channel)}
            payload["state"] = {"values": {}}
            payload["response_url"] = self.fake.issue_response_url(
                channel_id=msg.channel, user_id=user_id, ephemeral=msg
            )
        else:
            assert msg is not None
            payload["container"] = {
                "type": "message",
                "message_ts": msg.ts,
                "channel_id": msg.channel,
                "is_ephemeral": False,
            }
            if msg.is_reply:
                payload["container"]["thread_ts"] = msg.thread_ts
            payload["channel"] = {"id": msg.channel, "name": self._channel_name(msg.channel)}
            payload["message"] = msg.to_dict()
            payload["state"] = {"values": {}}
            payload["response_url"] = self.fake.issue_response_url(
                channel_id=msg.channel, user_id=user_id, message_ts=msg.ts
            )
        return payload

    async def click(
        self,
        user_id: str,
        button_text: str,
        *,
        channel_id: str | None = None,
        message_ts: str | None = None,
        view_user: str | None = None,
        home: bool = False,
        action_id: str | None = None,
        block_id: str | None = None,
    ) -> Reply:
        """Click the button whose visible text is ``button_text`` (narrowed by action_id/block_id
        when the same text appears twice, as the sandbox page knows exactly which one was clicked)."""

        def match(container: Any) -> list[dict[str, Any]]:
            return [
                b
                for b in buttons(container)
                if b["text"].strip() == button_text.strip()
                and (action_id is None or b["action_id"] == action_id)
                and (block_id is None or b["block_id"] == block_id)
            ]

        btn, msg, view = self._locate(
            user_id,
            match,
            what=f"button [{button_text}]",
            channel_id=channel_id,
            message_ts=message_ts,
            view_user=view_user,
            home=home,
        )
        action: dict[str, Any] = {
            "action_id": btn["action_id"],
            "block_id": btn["block_id"],
            "text": {"type": "plain_text", "text": btn["text"], "emoji": True},
            "type": "button",
            "action_ts": self._action_ts(),
        }
        if btn.get("value") is not None:
            action["value"] = btn["value"]
        if btn.get("style"):
            action["style"] = btn["style"]
        if btn.get("url"):
            action["url"] = btn["url"]
        payload = self._container_payload(user_id, msg, view)
        payload["actions"] = [action]
        return await self._send_payload(payload)

    async def message_shortcut(
        self, user_id: str, callback_id: str, *, channel_id: str, message_ts: str
    ) -> Reply:
        """Run a message shortcut on a message, as its "More actions" menu does."""
        msg = self.fake.message(channel_id, message_ts)
        assert msg is not None, f"no message {message_ts} in {channel_id}"
        payload = {
            "type": "message_action",
            "callback_id": callback_id,
            "user": self._user(user_id),
            "api_app_id": self.fake.app_id,
            "token": self.verification_token,
            "trigger_id": self.fake.issue_trigger(user_id),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
            "message_ts": message_ts,
            "message": msg.to_dict(),
            "response_url": self.fake.issue_response_url(channel_id=channel_id, user_id=user_id),
        }
        return await self._send_payload(payload)

    async def select(
        self,
        user_id: str,
        option_text_or_value: str,
        *,
        action_id: str | None = None,
        channel_id: str | None = None,
        message_ts: str | None = None,
        view_user: str | None = None,
        home: bool = False,
        block_id: str | None = None,
    ) -> Reply:
        """Pick an option of a static_select (by its visible text or value) in a message or view."""

        def pick(sel: dict[str, Any]) -> dict[str, Any] | None:
            for opt in sel["options"]:
                if opt["text"] == option_text_or_value or opt["value"] == option_text_or_value:
                    return opt["option"]
            return None

        def match(container: Any) -> list[dict[str, Any]]:
            out = []
            for sel in selects(container):
                if (
                    sel["type"] != "static_select"
                    or (action_id is not None and sel["action_id"] != action_id)
                    or (block_id is not None and sel["block_id"] != block_id)
                ):
                    continue
                opt = pick(sel)
                if opt is not None:
                    out.append({**sel, "chosen": opt})
            return out

        sel, msg, view = self._locate(
            user_id,
            match,
            what=f"select option {option_text_or_value!r}",
            channel_id=channel_id,
            message_ts=message_ts,
            view_user=view_user,
            home=home,
        )
        chosen = sel["chosen"]
        action = {
            "type": "static_select",
            "action_id": sel["action_id"],
            "block_id": sel["block_id"],
            "selected_option": {"text": chosen["text"], "value": chosen.get("value")},
            "action_ts": self._action_ts(),
        }
        if sel["element"].get("placeholder"):
            action["placeholder"] = sel["element"]["placeholder"]
        payload = self._container_payload(user_id, msg, view)
        if view is not None:
            values = dict((view.get("state") or {}).get("values") or {})
            values.setdefault(sel["block_id"], {})[sel["action_id"]] = {
                "type": "static_select",
                "selected_option": action["selected_option"],
            }
            self.fake.set_view_state(view["id"], values)
            payload["view"] = self.fake.view(view["id"])
            payload["state"] = {"values": values}
        payload["actions"] = [action]
        return await self._send_payload(payload)

    # ------------------------------------------------------------------ modals

    @staticmethod
    def _option(el: dict[str, Any], wanted: Any) -> dict[str, Any]:
        opts = list(el.get("options") or [])
        for group in el.get("option_groups") or []:
            opts.extend(group.get("options") or [])
        for opt in opts:
            if wanted in (option_text(opt), opt.get("value")):
                return opt
        raise AssertionError(f"no option {wanted!r}; options: {[option_text(o) for o in opts]}")

    def _state_value(self, el: dict[str, Any], value: Any) -> dict[str, Any]:
        kind = el.get("type")
        out: dict[str, Any] = {"type": kind}
        if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
            out["value"] = None if value is None else str(value)
        elif kind in ("static_select", "radio_buttons", "external_select"):
            out["selected_option"] = None if value is None else self._option(el, value)
        elif kind in ("multi_static_select", "checkboxes", "multi_external_select"):
            if value is True:
                opts = el.get("options") or []
                assert len(opts) == 1, "True only picks the option of a single-option element"
                value = [option_text(opts[0])]
            wanted = [] if value is None else ([value] if isinstance(value, str) else list(value))
            out["selected_options"] = [self._option(el, w) for w in wanted]
        elif kind == "datepicker":
            out["selected_date"] = None if value is None else str(value)
        elif kind == "timepicker":
            out["selected_time"] = None if value is None else str(value)
        elif kind == "users_select":
            out["selected_user"] = value
        elif kind == "multi_users_select":
            out["selected_users"] = list(value or [])
        elif kind == "conversations_select":
            out["selected_conversation"] = value
        elif kind == "multi_conversations_select":
            out["selected_conversations"] = list(value or [])
        elif kind == "channels_select":
            out["selected_channel"] = value
        elif kind == "multi_channels_select":
            out["selected_channels"] = list(value or [])
        else:
            out["value"] = value
        return out

    def _initial_value(self, el: dict[str, Any]) -> Any:
        if "initial_value" in el:
            return el["initial_value"]
        if el.get("initial_option"):
            return el["initial_option"].get("value")
        if el.get("initial_options"):
            return [o.get("value") for o in el["initial_options"]]
        for key in (
            "initial_date",
            "initial_time",
            "initial_user",
            "initial_conversation",
            "initial_channel",
        ):
            if key in el:
                return el[key]
        for key in ("initial_users", "initial_conversations", "initial_channels"):
            if key in el:
                return list(el[key])
        return None

    async def submit(
        self,
        user_id: str,
        values: dict[str, Any] | None = None,
        *,
        view_id: str | None = None,
        by_block_id: bool = False,
    ) -> Reply:
        """Submit the user's open modal, filling inputs by their visible label (or block_id/action_id;
        only block_id with ``by_block_id``, which is unambiguous: the sandbox page uses it)."""
        view = self.fake.view(view_id) if view_id else self.fake.open_view(user_id)
        if view is None:
            raise AssertionError(f"{user_id} has no open modal to submit")
        wanted = dict(values or {})
        fields = inputs(view)
        # Values already chosen in the open modal (select() with dispatch) stay, like in Slack's UI.
        previous = (view.get("state") or {}).get("values") or {}
        state: dict[str, dict[str, Any]] = {b: dict(a) for b, a in previous.items()}
        for f in fields:
            names = (f["block_id"],) if by_block_id else (f["label"], f["block_id"], f["action_id"])
            key = next((k for k in names if k in wanted), None)
            if key is None and f["action_id"] in previous.get(f["block_id"], {}):
                continue
            value = wanted.pop(key) if key is not None else self._initial_value(f["element"])
            state.setdefault(f["block_id"], {})[f["action_id"]] = self._state_value(f["element"], value)
        if wanted:
            raise AssertionError(
                f"no inputs labelled {sorted(wanted)}; labels: {[f['label'] for f in fields]}"
            )
        self.fake.set_view_state(view["id"], state)
        submitted = self.fake.view(view["id"])
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.fake.app_id,
            "token": self.verification_token,
            "trigger_id": self.fake.issue_trigger(user_id),
            "view": submitted,
            "response_urls": [],
            "enterprise": None,
            "is_enterprise_install": False,
        }
        reply = await self._send_payload(payload)
        if not reply.ok:
            return reply  # Slack shows "We had some trouble connecting" and leaves the modal as is
        ack = reply.json if isinstance(reply.json, dict) else None
        if ack and ack.get("response_action") == "errors":
            reply.errors = dict(ack.get("errors") or {})
        self.fake.apply_view_ack(user_id, view["id"], ack)
        return reply

    async def close(self, user_id: str, *, view_id: str | None = None) -> Reply | None:
        """The user closes the modal (X / Cancel); sends view_closed when the view asks for it."""
        view = self.fake.view(view_id) if view_id else self.fake.open_view(user_id)
        if view is None:
            raise AssertionError(f"{user_id} has no open modal to close")
        stack = self.fake.view_stack(user_id)
        self.fake.close_view(user_id, view["id"])
        if not view.get("notify_on_close"):
            return None
        payload = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.fake.app_id,
            "token": self.verification_token,
            "view": view,
            "is_cleared": bool(view.get("clear_on_close")) and len(stack) > 1,
            "enterprise": None,
            "is_enterprise_install": False,
        }
        return await self._send_payload(payload)

    # ------------------------------------------------------------------ events

    async def event(
        self,
        event: dict[str, Any],
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        event_id: str | None = None,
    ) -> Reply:
        now = self.clock()
        ev = dict(event)
        ev.setdefault("event_ts", f"{now:.6f}")
        envelope = {
            "token": self.verification_token,
            "team_id": self.fake.team_id,
            "context_team_id": self.fake.team_id,
            "api_app_id": self.fake.app_id,
            "event": ev,
            "type": "event_callback",
            "event_id": event_id or "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.fake.team_id,
                    "user_id": self.fake.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_hex(8),
        }
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        return await self.send_raw(json.dumps(envelope), content_type="application/json", headers=headers)

    async def url_verification(self, challenge: str) -> Reply:
        body = {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        return await self.send_raw(json.dumps(body), content_type="application/json")

    async def app_home_opened(self, user_id: str, *, tab: str = "home") -> Reply:
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self.fake.im_channel(user_id),
            "tab": tab,
        }
        home = self.fake.home(user_id)
        if home is not None:
            event["view"] = home
        return await self.event(event)

    async def message(
        self, user_id: str, channel_id: str, text: str, *, thread_ts: str | None = None
    ) -> Reply:
        """A person posts a message: it lands in the fake and a message event reaches the bot."""
        msg = self.fake.post_as_user(channel_id, user_id, text, thread_ts=thread_ts)
        ch = self.fake.channels[channel_id]
        event: dict[str, Any] = {
            "type": "message",
            "user": user_id,
            "text": text,
            "ts": msg.ts,
            "channel": channel_id,
            "channel_type": "im" if ch.is_im else ("group" if ch.is_private else "channel"),
            "team": self.fake.team_id,
        }
        if msg.thread_ts:
            event["thread_ts"] = msg.thread_ts
        return await self.event(event)


class _ClockAdapter(SignatureClock):
    """SignatureVerifier wants a Clock object with now(); tests hand us a plain callable."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock()


class SocketModeDriver(SlackDriver):
    """The same Slack-side requests, delivered as Socket Mode envelopes over the fake's WebSocket:
    a slash command's fields, an interaction's payload or an Events API body become the envelope's
    payload, and the app's ack (its optional payload) is read as the HTTP answer would be."""

    def __init__(self, *, fake: FakeSlack, clock: Callable[[], float] = time.time) -> None:
        super().__init__(fake=fake, bot_url="", signing_secret="unused-in-socket-mode", clock=clock)

    async def send_raw(
        self,
        body: str | bytes,
        *,
        content_type: str,
        timestamp: str | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        text = body.decode() if isinstance(body, bytes) else body
        retry_attempt, retry_reason = 0, ""
        if "json" in content_type:
            payload = json.loads(text)
            if payload.get("type") != "event_callback":
                return Reply(status=0, body=f"{payload.get('type')} is never sent in Socket Mode")
            kind = "events_api"
            hdrs = {k.lower(): v for k, v in (headers or {}).items()}
            retry_attempt = int(hdrs.get("x-slack-retry-num", "0"))
            retry_reason = hdrs.get("x-slack-retry-reason", "")
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
            if "payload" in form:
                kind, payload = "interactive", json.loads(form["payload"])
            else:
                kind, payload = "slash_commands", form
        ack = await self.fake.deliver(kind, payload, retry_attempt=retry_attempt, retry_reason=retry_reason)
        if ack is None:
            return Reply(status=0, body="not acked")
        if ack.payload is None:
            return Reply(status=200, body="")
        return Reply(status=200, body=json.dumps(ack.payload), json=ack.payload)
