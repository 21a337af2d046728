"""conversations.* (info, members, open, history, replies) with Slack's visibility rules and cursors."""

from __future__ import annotations

import base64
from typing import Any

from bot.sandbox.fake_slack.models import Channel, Message, SlackError, truthy
from bot.sandbox.fake_slack.state import SlackState


class ConversationsMethods(SlackState):
    """conversations.* handlers: what the bot may see of a channel, and history pages like Slack's."""

    # ------------------------------------------------------------------ Web API: conversations.*

    def _conversations_info(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        return {"channel": self._channel_dict(self._visible_channel(args.get("channel")))}

    def _conversations_members(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        ch = self._visible_channel(args.get("channel"))
        members = sorted(ch.members)
        limit = int(args.get("limit") or 100)
        start = 0
        if args.get("cursor"):
            try:
                start = int(base64.b64decode(str(args["cursor"])).decode().split(":", 1)[1])
            except (ValueError, IndexError) as e:
                raise SlackError("invalid_cursor") from e
        page = members[start : start + limit]
        nxt = start + limit
        cursor = base64.b64encode(f"offset:{nxt}".encode()).decode() if nxt < len(members) else ""
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_open(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        if args.get("channel"):
            ch = self._resolve_channel(args["channel"])
            return {"channel": {"id": ch.id}, "no_op": True, "already_open": True}
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 1:
            raise SlackError("not_supported")  # MPIMs are not modelled
        if users[0] not in self.users:
            raise SlackError("user_not_found")
        existed = any(c.is_im and c.user == users[0] for c in self.channels.values())
        cid = self.im_channel(users[0])
        out: dict[str, Any]
        if truthy(args.get("return_im")):
            out = {"channel": self._channel_dict(self.channels[cid])}
        else:
            out = {"channel": {"id": cid}}
        if existed:
            out.update(no_op=True, already_open=True)
        return out

    def _conversations_join(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"))
        if ch.is_im or ch.is_private:
            if ch.is_private and not ch.bot_is_member:
                raise SlackError("channel_not_found")
            raise SlackError("method_not_supported_for_channel_type")
        if not self.channels_join:
            raise SlackError("missing_scope", needed="channels:join")
        out: dict[str, Any] = {}
        if ch.bot_is_member:
            out["warning"] = "already_in_channel"
        ch.bot_is_member = True
        ch.members.add(self.bot_user_id)
        return {"channel": self._channel_dict(ch), **out}

    def _conversations_history(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        """Top-level messages (and broadcast replies), newest first, between oldest and latest."""
        ch = self._readable(args.get("channel"))
        oldest, latest, inclusive, limit, start = self._history_window(args)

        def inside(m: Message) -> bool:
            ts = float(m.ts)
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        msgs = [m for m in reversed(self.messages(ch.id)) if inside(m)]
        return {**self._page(msgs, args, start, limit), "pin_count": 0}

    def _conversations_replies(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        """A thread: its parent first, then the replies oldest first (within oldest/latest)."""
        ch = self._readable(args.get("channel"))
        parent = self.message(ch.id, str(args.get("ts") or ""))
        if parent is None:
            raise SlackError("thread_not_found")
        if parent.is_reply:
            parent = self.message(ch.id, str(parent.thread_ts))
            assert parent is not None
        oldest, latest, inclusive, limit, start = self._history_window(args)

        def inside(m: Message) -> bool:
            ts = float(m.ts)
            return (oldest <= ts <= latest) if inclusive else (oldest < ts < latest)

        msgs = [parent] + [m for m in self.thread(ch.id, parent.ts) if inside(m)]
        return self._page(msgs, args, start, limit)

    # ------------------------------------------------------------------ shapes, visibility and paging

    def _channel_dict(self, ch: Channel) -> dict[str, Any]:
        if ch.is_im:
            return {
                "id": ch.id,
                "created": ch.created,
                "is_im": True,
                "is_org_shared": False,
                "user": ch.user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": ch.id,
            "name": ch.name,
            "is_channel": not ch.is_private,
            "is_group": ch.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": ch.is_private,
            "created": ch.created,
            "is_archived": False,
            "is_general": ch.name == "general",
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": ch.bot_is_member,
            "name_normalized": ch.name,
            "context_team_id": self.team_id,
            "num_members": len(ch.members),
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }

    def _visible_channel(self, channel: Any) -> Channel:
        ch = self._resolve_channel(channel)
        # Private channels the bot is not in do not exist as far as the bot can tell.
        if ch.is_private and not ch.is_im and not ch.bot_is_member:
            raise SlackError("channel_not_found")
        return ch

    def _readable(self, channel: Any) -> Channel:
        ch = self._visible_channel(channel)
        if not ch.is_im and not ch.bot_is_member:
            raise SlackError("not_in_channel")
        return ch

    def _history_window(self, args: dict[str, Any]) -> tuple[float, float, bool, int, int]:
        def number(key: str, default: float) -> float:
            try:
                return float(args.get(key) or default)
            except (TypeError, ValueError) as e:
                raise SlackError("invalid_arguments") from e

        oldest, latest = number("oldest", 0.0), number("latest", float("inf"))
        try:
            limit = max(1, min(int(args.get("limit") or 100), 999))
        except (TypeError, ValueError) as e:
            raise SlackError("invalid_limit") from e
        start = 0
        if args.get("cursor"):
            try:
                start = int(base64.b64decode(str(args["cursor"])).decode().split(":", 1)[1])
            except (ValueError, IndexError) as e:
                raise SlackError("invalid_cursor") from e
        return oldest, latest, truthy(args.get("inclusive")), limit, start

    def _page(self, msgs: list[Message], args: dict[str, Any], start: int, limit: int) -> dict[str, Any]:
        # Slack returns message metadata only to callers that ask for it
        with_metadata = truthy(args.get("include_all_metadata"))
        page = msgs[start : start + limit]
        out = []
        for m in page:
            d = m.to_dict()
            if not with_metadata:
                d.pop("metadata", None)
            out.append(d)
        more = start + limit < len(msgs)
        cursor = base64.b64encode(f"next_ts:{start + limit}".encode()).decode() if more else ""
        return {"messages": out, "has_more": more, "response_metadata": {"next_cursor": cursor}}
