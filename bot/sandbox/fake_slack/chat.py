"""chat.* — post, update, delete, ephemeral and permalink — and posting as the app or a person."""

from __future__ import annotations

from typing import Any

from bot.sandbox.fake_slack.faults import Faults
from bot.sandbox.fake_slack.models import Channel, Message, SlackError
from bot.sandbox.fake_slack.state import SlackState


class ChatMethods(Faults, SlackState):
    """chat.* handlers; chat.postMessage draws on the per-channel rate limit that ``Faults`` sets up."""

    # ------------------------------------------------------------------ used by the driver

    def post_as_bot(self, channel: str, payload: dict[str, Any]) -> Message:
        """Post a message as the app (in_channel acks, response_url) after Slack-like validation."""
        errors = self.validate_message(payload, where=f"message in {channel}")
        if errors:
            raise AssertionError("; ".join(errors))
        return self._store_message(channel, payload, user=self.bot_user_id, bot=True)

    def post_as_user(self, channel: str, user_id: str, text: str, *, thread_ts: str | None = None) -> Message:
        """A person writes in a channel (no event is sent; use the driver for that)."""
        return self._store_message(channel, {"text": text, "thread_ts": thread_ts}, user=user_id, bot=False)

    # ------------------------------------------------------------------ Web API: chat.*

    def _find(self, channel: Any, ts: Any) -> tuple[Channel, Message]:
        ch = self._resolve_channel(channel)
        msg = self.message(ch.id, str(ts or ""))
        if msg is None:
            raise SlackError("message_not_found")
        return ch, msg

    def _chat_post_message(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"), for_post=True)
        self._check_can_post(ch)
        self._bucket_take(ch.id)
        self._check_message(args, where=f"chat.postMessage to {ch.id}")
        msg = self._store_message(ch.id, args, user=self.bot_user_id, bot=True)
        return {"channel": ch.id, "ts": msg.ts, "message": msg.to_dict()}

    def _chat_update(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        ch, msg = self._find(args.get("channel"), args.get("ts"))
        if msg.user != self.bot_user_id:
            raise SlackError("cant_update_message")
        payload = dict(args)
        if payload.get("text") is None and payload.get("blocks") is None:
            raise SlackError("no_text")
        # Validate against what the message will look like after the edit.
        merged = {"text": payload.get("text", msg.text), "blocks": payload.get("blocks")}
        if merged["blocks"] is not None:
            self._check_message(merged, where=f"chat.update of {ch.id}/{msg.ts}")
        self._edit_message(msg, payload)
        shown = msg.to_dict()
        return {"channel": ch.id, "ts": msg.ts, "text": msg.text, "message": shown}

    def _chat_post_ephemeral(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"), for_post=True)
        user = args.get("user")
        if not user or user not in self.users:
            raise SlackError("user_not_found")
        self._check_can_post(ch)
        if not ch.is_im and user not in ch.members:
            raise SlackError("user_not_in_channel")
        self._check_message(args, where=f"chat.postEphemeral to {user} in {ch.id}")
        eph = self.record_ephemeral(
            channel=ch.id,
            user=user,
            text=str(args.get("text") or ""),
            blocks=args.get("blocks"),
            thread_ts=args.get("thread_ts"),
        )
        return {"message_ts": eph.ts}

    def _chat_get_permalink(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        ch, msg = self._find(args.get("channel"), args.get("message_ts"))
        link = f"https://{self.team_domain}.slack.com/archives/{ch.id}/p{msg.ts.replace('.', '')}"
        if msg.is_reply:
            link += f"?thread_ts={msg.thread_ts}&cid={ch.id}"
        return {"channel": ch.id, "permalink": link}

    def _chat_delete(self, args: dict[str, Any], ident: dict[str, Any] | None) -> dict[str, Any]:
        ch, msg = self._find(args.get("channel"), args.get("ts"))
        if msg.user != self.bot_user_id:
            raise SlackError("cant_delete_message")
        self._delete_message(msg)
        return {"channel": ch.id, "ts": msg.ts}
