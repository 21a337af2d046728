"""Small typed readers for Slack's raw payloads, so handlers never dig through dicts."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def installed_team_id(body: dict[str, Any]) -> str:
    """The workspace the app is installed in, whoever acted. In a Slack Connect channel the person
    (so `team`, `user.team_id`) can be of another organisation; Slack says which installation a
    payload is for in `view.app_installed_team_id` (modals) and `authorizations` (events), as Bolt
    reads them. A click on a message has neither, so its `team` decides (the `message` it carries
    back is not trusted for this: tests/reliability/test_security.py). With an Enterprise Grid
    org-wide install `team` may be empty, so the person's workspace comes after."""
    view = _object(body.get("view"))
    if view.get("app_installed_team_id"):
        return str(view["app_installed_team_id"])
    for authorization in body.get("authorizations") or []:
        if isinstance(authorization, dict) and authorization.get("team_id"):
            return str(authorization["team_id"])
        break  # Slack lists the installation first
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    if isinstance(team, str) and team:
        return team
    if body.get("team_id"):
        return str(body["team_id"])
    user = _object(body.get("user"))
    return str(user.get("team_id") or view.get("team_id") or "")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class ActionClick:
    team_id: str
    user_id: str
    action_id: str
    value: str
    channel_id: str | None
    message_ts: str | None
    trigger_id: str
    view_id: str | None

    @property
    def lead_id(self) -> int | None:
        head = self.value.split(":", 1)[0]
        return int(head) if head.isdigit() else None

    @property
    def argument(self) -> str:
        """What follows "<id>:" in a value like "42:meeting_booked"."""
        return self.value.split(":", 1)[1] if ":" in self.value else ""


def extract_click(body: dict[str, Any]) -> ActionClick:
    action = (body.get("actions") or [{}])[0]
    container = body.get("container") or {}
    return ActionClick(
        team_id=installed_team_id(body),
        user_id=(body.get("user") or {}).get("id") or "",
        action_id=action.get("action_id") or "",
        value=str(action.get("value") or (action.get("selected_option") or {}).get("value") or ""),
        channel_id=(body.get("channel") or {}).get("id") or container.get("channel_id"),
        message_ts=container.get("message_ts") or (body.get("message") or {}).get("ts"),
        trigger_id=body.get("trigger_id") or "",
        view_id=(body.get("view") or {}).get("id"),
    )


def view_values(view: dict[str, Any]) -> dict[str, Any]:
    """{block_id: value} from a submitted view's state, whatever the input element type."""
    out: dict[str, Any] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        for element in actions.values():
            out[block_id] = _element_value(element)
    return out


def _element_value(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind in ("static_select", "external_select", "radio_buttons"):
        option = element.get("selected_option")
        return option.get("value") if option else None
    if kind in ("checkboxes", "multi_static_select"):
        return [o.get("value") for o in element.get("selected_options") or []]
    if kind == "datepicker":
        return element.get("selected_date")
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "multi_users_select":
        return list(element.get("selected_users") or [])
    if kind in ("conversations_select", "channels_select"):
        return element.get("selected_conversation") or element.get("selected_channel")
    value = element.get("value")
    return value.strip() if isinstance(value, str) and value.strip() else None


def view_team_user(body: dict[str, Any]) -> tuple[str, str]:
    return installed_team_id(body), (body.get("user") or {}).get("id") or ""


def view_private_metadata(body: dict[str, Any]) -> str:
    return str((body.get("view") or {}).get("private_metadata") or "")


@dataclass(frozen=True)
class ViewSubmission:
    team_id: str
    user_id: str
    callback_id: str
    view_id: str | None
    private_metadata: str
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def lead_id(self) -> int | None:
        return metadata_lead_id(self.private_metadata)

    @property
    def metadata_rest(self) -> str:
        """What follows "<id>:" in metadata like "42:C0SALES"."""
        return self.private_metadata.partition(":")[2]


def extract_submission(body: dict[str, Any]) -> ViewSubmission:
    view = body.get("view")
    view = view if isinstance(view, dict) else {}
    team_id, user_id = view_team_user(body)
    return ViewSubmission(
        team_id=team_id,
        user_id=user_id,
        callback_id=str(view.get("callback_id") or ""),
        view_id=view.get("id"),
        private_metadata=view_private_metadata(body),
        values=view_values(view),
    )


def metadata_lead_id(metadata: str) -> int | None:
    """The lead a modal is about, from the private_metadata its builder wrote: a JSON object
    with "lead_id" (verdict and stage modals) or "<id>" / "<id>:<more>" (the hand-back modal)."""
    if metadata.startswith("{"):
        try:
            value = json.loads(metadata).get("lead_id")
        except (ValueError, AttributeError):
            return None
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    head = metadata.split(":", 1)[0]
    return int(head) if head.isascii() and head.isdigit() else None


# what Slack escapes in a command's text when the command has should_escape: true
_ESCAPED = re.compile(r"<(@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|mailto:[^|>\s]+|https?://[^|>\s]+)(?:\|([^>]*))?>")


def _same(ref: str) -> str:
    return ref


def as_typed(
    text: str, *, user_name: Callable[[str], str] = _same, channel_name: Callable[[str], str] = _same
) -> str:
    """A command's escaped text as the person typed it, which is what Slack sends a command with
    should_escape: false: `<@U1|rob>` → `@rob`, `<#C1|sales>` → `#sales`,
    `<mailto:a@b.co|a@b.co>` → `a@b.co`, `<http://acme.com|acme.com>` → `acme.com`. Special
    mentions (`<!channel>`) stay as they are: nothing but Slack writes them."""

    def typed(match: re.Match[str]) -> str:
        ref, label = match.group(1), match.group(2)
        if ref.startswith("@"):
            return "@" + (label or user_name(ref[1:]))
        if ref.startswith("#"):
            return "#" + (label or channel_name(ref[1:]))
        return label or ref.removeprefix("mailto:")

    return _ESCAPED.sub(typed, text or "")


def channel_ref(text: str) -> str | None:
    """A channel from command text: `<#C123|name>` (Slack's escaping) or a bare ID."""
    text = (text or "").strip()
    if text.startswith("<#") and text.endswith(">"):
        text = text[2:-1].split("|", 1)[0]
    return text if text[:1] in ("C", "G") and text.isalnum() and text.isupper() else None


def event_key(payload: Any) -> tuple[str, str] | None:
    """(team_id, "event:<event_id>") of an Events API delivery (HTTP body or Socket Mode payload),
    or None for anything else: the key that makes Slack's retries of one event run it once."""
    if not isinstance(payload, dict) or payload.get("type") != "event_callback":
        return None
    event_id = payload.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        return None
    team_id = payload.get("team_id") or payload.get("enterprise_id") or ""
    return str(team_id)[:32], f"event:{event_id}"


@dataclass(frozen=True)
class MessageShortcut:
    team_id: str
    user_id: str
    callback_id: str
    trigger_id: str
    channel_id: str
    message_ts: str
    text: str


def extract_message_shortcut(body: dict[str, Any]) -> MessageShortcut:
    """A message shortcut (`type: message_action`): who, which message, its text."""
    message = _object(body.get("message"))
    return MessageShortcut(
        team_id=installed_team_id(body),
        user_id=_object(body.get("user")).get("id") or "",
        callback_id=str(body.get("callback_id") or ""),
        trigger_id=str(body.get("trigger_id") or ""),
        channel_id=str(_object(body.get("channel")).get("id") or ""),
        message_ts=str(message.get("ts") or body.get("message_ts") or ""),
        text=str(message.get("text") or ""),
    )
