"""What Fake Slack keeps like Slack does: workspace, users, channels, messages with their ts and
threads, ephemerals; message storage and lookup, Slack's checks on a message, snapshot and restore.

``SlackState`` is the base of every Web API family mixin; the views, files, tokens and response_url
stores it creates are used by those mixins.
"""

from __future__ import annotations

import base64
import copy
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any

from bot.sandbox.fake_slack.blockkit import MAX_TEXT, message_violations, normalize_blocks
from bot.sandbox.fake_slack.models import (
    ApiCall,
    Channel,
    Ephemeral,
    Message,
    Response,
    ResponseUrl,
    SlackError,
    StoredView,
    Trigger,
    UploadedFile,
    truthy,
)
from bot.sandbox.render import visible_text

# Bot-sent message fields that Slack keeps on the stored message.
_KEPT_FIELDS = (
    "reply_broadcast",
    "mrkdwn",
    "unfurl_links",
    "unfurl_media",
    "metadata",
    "icon_emoji",
    "icon_url",
    "username",
    "attachments",
    "parse",
    "link_names",
)


class SlackState:
    """One workspace's data and the operations on it that every Web API method shares."""

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
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = "".join(c for c in team_name.lower() if c.isalnum()) or "workspace"
        self.bot_token = bot_token
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.clock = clock

        self.calls: list[ApiCall] = []
        self.violations: list[str] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, dict[str, Any]] = {}
        self.ephemeral_messages: list[Ephemeral] = []
        self.responses: list[Response] = []
        self.uploaded: dict[str, UploadedFile] = {}

        self._tokens: dict[str, dict[str, Any]] = {
            bot_token: {"team_id": team_id, "team": team_name, "user_id": bot_user_id, "bot_id": bot_id}
        }
        self._messages: dict[str, list[Message]] = {}
        self._last_ts = 0.0
        self._ids = itertools.count(1)
        self._triggers: dict[str, Trigger] = {}
        self._views: dict[str, StoredView] = {}
        self._modal_stacks: dict[str, list[str]] = {}
        self._homes: dict[str, str] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._oauth_codes: dict[str, dict[str, Any]] = {}

        self._port: int | None = None
        self._host = "127.0.0.1"
        # the bot token's scopes that change answers: chat:write.public lets it post (never read
        # history) in public channels it is not in; channels:join lets it join them
        self.chat_write_public = False
        self.channels_join = True

    @property
    def url(self) -> str:
        """Where the fake answers; ``FakeSlack.start()`` binds it."""
        if self._port is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://{self._host}:{self._port}/"

    @property
    def base_url(self) -> str:
        return self.url + "api/"

    # ------------------------------------------------------------------ setup

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str,
        members: Iterable[str] = (),
        is_private: bool = False,
        bot_is_member: bool = True,
    ) -> Channel:
        ch = Channel(
            id=channel_id,
            name=name,
            members=set(members),
            is_private=is_private,
            bot_is_member=bot_is_member,
            created=int(self.clock()),
        )
        if bot_is_member:
            ch.members.add(self.bot_user_id)
        self.channels[channel_id] = ch
        self._messages.setdefault(channel_id, [])
        return ch

    # ------------------------------------------------------------------ human-view helpers

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def reset_calls(self) -> None:
        self.calls.clear()

    def assert_no_violations(self) -> None:
        if self.violations:
            raise AssertionError(
                "Slack would have rejected these payloads:\n  " + "\n  ".join(self.violations)
            )

    def messages(self, channel_id: str, *, include_threads: bool = False) -> list[Message]:
        msgs = self._messages.get(channel_id, [])
        if include_threads:
            return list(msgs)
        return [m for m in msgs if not m.is_reply or truthy(m.extra.get("reply_broadcast"))]

    def thread(self, channel_id: str, ts: str) -> list[Message]:
        return [m for m in self._messages.get(channel_id, []) if m.is_reply and m.thread_ts == ts]

    def latest(self, channel_id: str) -> Message | None:
        top = self.messages(channel_id)
        return top[-1] if top else None

    def message(self, channel_id: str, ts: str) -> Message | None:
        for m in self._messages.get(channel_id, []):
            if m.ts == ts:
                return m
        return None

    def all_messages(self) -> list[Message]:
        return sorted((m for msgs in self._messages.values() for m in msgs), key=lambda m: float(m.ts))

    def find_message(self, contains: str, channel: str | None = None) -> Message | None:
        for m in reversed(self.all_messages()):
            if channel is not None and m.channel != channel:
                continue
            if contains in m.text or contains in visible_text(m.to_dict()):
                return m
        return None

    def ephemerals(self, user_id: str | None = None, channel: str | None = None) -> list[Ephemeral]:
        return [
            e
            for e in self.ephemeral_messages
            if (user_id is None or e.user == user_id) and (channel is None or e.channel == channel)
        ]

    def im_channel(self, user_id: str) -> str:
        """The IM channel ID between the bot and a user, created on first use."""
        for ch in self.channels.values():
            if ch.is_im and ch.user == user_id:
                return ch.id
        cid = "D" + user_id.lstrip("UW")
        self.channels[cid] = Channel(
            id=cid,
            name=user_id,
            members={user_id, self.bot_user_id},
            is_private=True,
            is_im=True,
            user=user_id,
            created=int(self.clock()),
        )
        self._messages.setdefault(cid, [])
        return cid

    def dms(self, user_id: str) -> list[Message]:
        return self.messages(self.im_channel(user_id), include_threads=True)

    # ------------------------------------------------------------------ persistence (the sandbox)

    def snapshot(self) -> dict[str, Any]:
        """What a person would find again after a restart: messages, threads, ephemerals, files and
        Home tabs (open modals, triggers and response_urls are short-lived and are not kept)."""
        next_id = next(self._ids)
        self._ids = itertools.count(next_id)
        return {
            "version": 1,
            "team_id": self.team_id,
            "last_ts": self._last_ts,
            "next_id": next_id,
            "ims": [ch.user for ch in self.channels.values() if ch.is_im],
            "messages": [asdict(m) for msgs in self._messages.values() for m in msgs],
            "ephemerals": [asdict(e) for e in self.ephemeral_messages],
            "files": [
                {**asdict(f), "content": base64.b64encode(f.content).decode() if f.content else None}
                for f in self.uploaded.values()
                if f.completed
            ],
            "homes": {user: self._views[vid].data for user, vid in self._homes.items()},
        }

    def restore(self, snap: dict[str, Any]) -> None:
        """Load a snapshot() taken from a fake with the same team, users and channels."""
        if snap.get("version") != 1 or snap.get("team_id") != self.team_id:
            raise ValueError("snapshot of another workspace or format")
        self._last_ts = max(self._last_ts, float(snap["last_ts"]))
        self._ids = itertools.count(max(int(snap["next_id"]), next(self._ids)))
        for user in snap["ims"]:
            if user in self.users:
                self.im_channel(user)
        for raw in snap["messages"]:
            if raw["channel"] in self.channels:
                self._messages.setdefault(raw["channel"], []).append(Message(**raw))
        self.ephemeral_messages.extend(
            Ephemeral(**e) for e in snap["ephemerals"] if e["channel"] in self.channels
        )
        for raw in snap["files"]:
            content = base64.b64decode(raw["content"]) if raw["content"] else None
            self.uploaded[raw["id"]] = UploadedFile(**{**raw, "content": content})
        for user, data in snap["homes"].items():
            if user in self.users:
                self._views[data["id"]] = StoredView(data=data, user=user)
                self._homes[user] = data["id"]

    # ------------------------------------------------------------------ messages and ephemerals

    def record_ephemeral(
        self,
        *,
        channel: str,
        user: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        source: str = "api",
    ) -> Ephemeral:
        eph = Ephemeral(
            channel=channel,
            user=user,
            text=text,
            blocks=list(blocks or []),
            ts=self._next_ts(),
            thread_ts=thread_ts,
            source=source,
        )
        self.ephemeral_messages.append(eph)
        return eph

    def _next_ts(self) -> str:
        now = round(self.clock(), 6)
        if now <= self._last_ts:
            now = round(self._last_ts + 0.000001, 6)
        self._last_ts = now
        return f"{now:.6f}"

    def _resolve_channel(self, channel: Any, *, for_post: bool = False) -> Channel:
        if not channel or not isinstance(channel, str):
            raise SlackError("channel_not_found")
        if channel in self.channels:
            return self.channels[channel]
        if channel in self.users and (channel.startswith(("U", "W"))):
            if for_post:
                return self.channels[self.im_channel(channel)]
        if channel.startswith("#"):
            for ch in self.channels.values():
                if ch.name == channel[1:]:
                    return ch
        raise SlackError("channel_not_found")

    def _check_can_post(self, ch: Channel) -> None:
        if ch.is_im:
            return
        if not ch.bot_is_member and not (self.chat_write_public and not ch.is_private):
            raise SlackError("not_in_channel")

    def _store_message(
        self,
        channel: str,
        payload: dict[str, Any],
        *,
        user: str | None,
        bot: bool,
        files: list[dict[str, Any]] | None = None,
        subtype: str | None = None,
    ) -> Message:
        ch = self.channels[channel]
        thread_ts = payload.get("thread_ts") or None
        parent = None
        if thread_ts:
            parent = self.message(channel, str(thread_ts))
            if parent is None:
                raise SlackError("invalid_thread_ts")
            if parent.is_reply:
                parent = self.message(channel, parent.thread_ts)  # type: ignore[arg-type]
            thread_ts = parent.ts  # type: ignore[union-attr]
        msg = Message(
            channel=ch.id,
            ts=self._next_ts(),
            thread_ts=thread_ts,
            user=user,
            text=str(payload.get("text") or ""),
            blocks=normalize_blocks(payload.get("blocks") or []),
            files=list(files or []),
            bot_id=self.bot_id if bot else None,
            app_id=self.app_id if bot else None,
            team=self.team_id,
            subtype=subtype,
        )
        for key in _KEPT_FIELDS:
            if payload.get(key) is not None:
                msg.extra[key] = copy.deepcopy(payload[key])
        if parent is not None:
            msg.extra["_parent_user"] = parent.user
            parent.reply_count += 1
            parent.latest_reply = msg.ts
            if user and user not in parent.reply_users:
                parent.reply_users.append(user)
            if not parent.thread_ts:
                parent.thread_ts = parent.ts
        self._messages.setdefault(ch.id, []).append(msg)
        return msg

    def _edit_message(self, msg: Message, payload: dict[str, Any]) -> None:
        edit_ts = self._next_ts()
        msg.edits.append({"text": msg.text, "blocks": copy.deepcopy(msg.blocks), "edited_at": edit_ts})
        if "text" in payload and payload["text"] is not None:
            msg.text = str(payload["text"])
        if "blocks" in payload and payload["blocks"] is not None:
            msg.blocks = normalize_blocks(payload["blocks"])
        for key in ("attachments", "metadata"):
            if payload.get(key) is not None:
                msg.extra[key] = copy.deepcopy(payload[key])
        msg.edited = {"user": self.bot_user_id, "ts": edit_ts}

    def _delete_message(self, msg: Message) -> None:
        msgs = self._messages[msg.channel]
        msgs.remove(msg)
        if msg.is_reply:
            parent = self.message(msg.channel, msg.thread_ts)  # type: ignore[arg-type]
            if parent is not None:
                parent.reply_count = max(0, parent.reply_count - 1)
                replies = self.thread(msg.channel, parent.ts)
                parent.latest_reply = replies[-1].ts if replies else None

    # ------------------------------------------------------------------ Slack's checks on a message

    def validate_message(self, payload: dict[str, Any], *, where: str) -> list[str]:
        """Slack's checks on a message payload; violations are recorded and returned."""
        errors = message_violations(payload, where=where)
        self.violations.extend(errors)
        return errors

    def _check_message(self, payload: dict[str, Any], *, where: str) -> None:
        text = payload.get("text")
        if not (text or payload.get("blocks") or payload.get("attachments")):
            raise SlackError("no_text")
        if isinstance(text, str) and len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        errors = message_violations(payload, where=where)
        if errors:
            self.violations.extend(errors)
            raise SlackError("invalid_blocks", errors=errors, response_metadata={"messages": errors})
