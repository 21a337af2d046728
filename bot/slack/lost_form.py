"""A form Slack closed before its answer came (a listener past the ack deadline): the field errors
it could no longer show, and what the person typed, as a DM, so nothing they entered is lost."""

from __future__ import annotations

import re
from typing import Any

from bot import messages
from bot.slack.mrkdwn import escape, truncate

SLACK_ID = re.compile(r"[A-Z0-9]{2,32}")
MAX_TEXT = 3900  # a DM, kept to one screen (Slack allows far more)


def lost_form_text(view: dict[str, Any], errors: dict[str, str]) -> str:
    labels = _labels(view)
    lines = [messages.FORM_CLOSED.format(title=escape(_plain(view.get("title")) or "the form"))]
    lines += [
        f"• *{escape(labels.get(block, 'The form'))}*: {escape(error)}" for block, error in errors.items()
    ]
    entered = [(labels.get(block, block), shown) for block, shown in _entered(view)]
    if entered:
        lines.append(messages.FORM_ENTERED)
        lines += [_entry(label, shown) for label, shown in entered]
    # cut what was entered if need be, never the way back to the form
    body = truncate("\n".join(lines), MAX_TEXT - len(messages.FORM_AGAIN) - 1)
    return f"{body}\n{messages.FORM_AGAIN}"


def _plain(text: Any) -> str:
    return str(text.get("text") or "") if isinstance(text, dict) else ""


def _labels(view: dict[str, Any]) -> dict[str, str]:
    return {
        str(block.get("block_id")): _plain(block.get("label"))
        for block in view.get("blocks") or []
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id")
    }


def _entered(view: dict[str, Any]) -> list[tuple[str, str]]:
    """(block_id, what the person sees in the field) for each filled field, in the form's order."""
    values = (view.get("state") or {}).get("values") or {}
    order = [str(b.get("block_id")) for b in view.get("blocks") or [] if isinstance(b, dict)]
    blocks = sorted(values, key=lambda b: order.index(b) if b in order else len(order))
    found = []
    for block in blocks:
        for element in (values.get(block) or {}).values():
            if isinstance(element, dict) and (shown := _shown(element)):
                found.append((block, shown))
    return found


def _shown(element: dict[str, Any]) -> str:
    """Mrkdwn for an element's state: typed text escaped; people and channels as mentions."""
    if isinstance(option := element.get("selected_option"), dict):
        return escape(_plain(option.get("text")))
    if options := element.get("selected_options"):
        return ", ".join(escape(_plain(o.get("text"))) for o in options if isinstance(o, dict))
    people = element.get("selected_users") or [element.get("selected_user")]
    if mentions := [f"<@{u}>" for u in people if isinstance(u, str) and SLACK_ID.fullmatch(u)]:
        return ", ".join(mentions)
    places = (
        element.get("selected_conversations")
        or element.get("selected_channels")
        or [element.get("selected_conversation") or element.get("selected_channel")]
    )
    if mentions := [f"<#{c}>" for c in places if isinstance(c, str) and SLACK_ID.fullmatch(c)]:
        return ", ".join(mentions)
    for key in ("value", "selected_date", "selected_time"):
        if isinstance(value := element.get(key), str) and value.strip():
            return escape(value.strip())
    return ""


def _entry(label: str, shown: str) -> str:
    if "\n" not in shown:
        return f"• *{escape(label)}*: {shown}"
    return f"• *{escape(label)}*:\n" + "\n".join(f">{line}" for line in shown.splitlines())
