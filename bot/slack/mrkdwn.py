"""Escaping for Slack mrkdwn: untrusted text must render literally and ping no one."""

from __future__ import annotations

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: object) -> str:
    """Escape &, < and > so `<!channel>` or `<@U123>` in a lead's name is just text."""
    if text is None:
        return ""
    return str(text).translate(_ESCAPES)


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut to `limit` characters (Slack counts characters), saying that something was cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(ellipsis))] + ellipsis


def mention(user_id: str | None) -> str:
    """A user mention, for IDs we stored (never for lead-provided text)."""
    return f"<@{user_id}>" if user_id else "nobody"


def channel_link(channel_id: str | None) -> str:
    return f"<#{channel_id}>" if channel_id else "(no channel)"


def usergroup_mention(group_id: str) -> str:
    return f"<!subteam^{group_id}>"
