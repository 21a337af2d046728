"""The records Fake Slack keeps and hands out, shaped like Slack's, and the error it answers with."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# A Web API method: (arguments, the caller's token identity or None) -> the answer without "ok".
Handler = Callable[[dict[str, Any], dict[str, Any] | None], dict[str, Any]]


@dataclass
class ApiCall:
    method: str
    args: dict[str, Any]
    response: dict[str, Any] | None
    status: int
    at: float


@dataclass
class Channel:
    id: str
    name: str
    members: set[str] = field(default_factory=set)
    is_private: bool = False
    bot_is_member: bool = True
    is_im: bool = False
    user: str | None = None  # the other party of an IM
    created: int = 0


@dataclass
class Message:
    channel: str
    ts: str
    thread_ts: str | None
    user: str | None
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    reply_count: int = 0
    latest_reply: str | None = None
    reply_users: list[str] = field(default_factory=list)
    bot_id: str | None = None
    app_id: str | None = None
    team: str | None = None
    subtype: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    edited: dict[str, Any] | None = None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_dict(self) -> dict[str, Any]:
        """The message as Slack returns it (chat.postMessage ``message``, interaction ``message``)."""
        d: dict[str, Any] = {"type": "message"}
        if self.subtype:
            d["subtype"] = self.subtype
        d.update({"text": self.text, "user": self.user, "ts": self.ts, "team": self.team})
        if self.bot_id:
            d["bot_id"] = self.bot_id
            d["app_id"] = self.app_id
        if self.blocks:
            d["blocks"] = copy.deepcopy(self.blocks)
        if self.files:
            d["files"] = copy.deepcopy(self.files)
            d["upload"] = False
        if self.thread_ts:
            d["thread_ts"] = self.thread_ts
        if self.is_reply:
            d["parent_user_id"] = self.extra.get("_parent_user")
        if self.reply_count:
            d.update(
                reply_count=self.reply_count,
                reply_users_count=len(self.reply_users),
                latest_reply=self.latest_reply,
                reply_users=list(self.reply_users),
            )
        if self.edited:
            d["edited"] = dict(self.edited)
        for key, value in self.extra.items():
            if not key.startswith("_"):
                d[key] = copy.deepcopy(value)
        return d


@dataclass
class Ephemeral:
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    ts: str
    thread_ts: str | None = None
    source: str = "api"  # api | response_url | ack


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int | None
    title: str | None = None
    content: bytes | None = None
    alt_txt: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.filename,
            "title": self.title or self.filename,
            "size": len(self.content or b""),
            "mimetype": "application/octet-stream",
        }


@dataclass
class Response:
    url: str
    channel: str | None
    user: str | None
    payload: dict[str, Any]
    response_type: str
    replace_original: bool
    delete_original: bool
    at: float


@dataclass
class ResponseUrl:
    id: str
    channel: str | None
    user: str | None
    message_ts: str | None
    issued_at: float
    ephemeral: Ephemeral | None = None
    uses: int = 0


@dataclass
class Trigger:
    id: str
    user: str
    issued_at: float
    used: bool = False


@dataclass
class StoredView:
    data: dict[str, Any]
    user: str
    errors: dict[str, str] | None = None


class SlackError(Exception):
    """A Web API refusal: answered as ``{"ok": false, "error": error, **extra}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def truthy(value: Any) -> bool:
    """A boolean argument as Slack reads it from a form or JSON body."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)
