"""Render Block Kit to the plain text a person would see, for assertions in tests.

Pure functions over dicts (messages, block lists, views). mrkdwn is left exactly as sent — no
unescaping of ``&lt;`` and friends — because tests check that untrusted text was escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["buttons", "inputs", "option_text", "selects", "text_of", "visible_lines", "visible_text"]

_SELECT_TYPES = {
    "static_select",
    "multi_static_select",
    "external_select",
    "multi_external_select",
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
}


def text_of(obj: Any) -> str:
    """Text of a text object ({"type": "plain_text"|"mrkdwn", "text": ...}) or a bare string."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, Mapping):
        return str(obj.get("text") or "")
    return str(obj)


def option_text(option: Mapping[str, Any] | None) -> str:
    return text_of(option.get("text")) if option else ""


def _blocks_of(source: Any) -> list[dict[str, Any]]:
    if source is None:
        return []
    if isinstance(source, Mapping):
        return list(source.get("blocks") or [])
    return [b.to_dict() if hasattr(b, "to_dict") else b for b in source]


def _element_text(el: Mapping[str, Any]) -> str:
    kind = el.get("type")
    if kind in ("plain_text", "mrkdwn"):
        return text_of(el)
    if kind == "button":
        return f"[{text_of(el.get('text'))}]"
    if kind == "image":
        return f"[image: {el.get('alt_text', '')}]"
    if kind in _SELECT_TYPES:
        chosen = el.get("initial_option") or None
        label = option_text(chosen) if chosen else text_of(el.get("placeholder")) or "Select"
        if el.get("initial_options"):
            label = ", ".join(option_text(o) for o in el["initial_options"])
        return f"[{label} ▾]"
    if kind == "overflow":
        return "[…]"
    if kind == "datepicker":
        return f"[{el.get('initial_date') or text_of(el.get('placeholder')) or 'date'}]"
    if kind == "timepicker":
        return f"[{el.get('initial_time') or text_of(el.get('placeholder')) or 'time'}]"
    if kind in ("checkboxes", "radio_buttons"):
        return " ".join(f"( ) {option_text(o)}" for o in el.get("options") or [])
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        value = el.get("initial_value") or text_of(el.get("placeholder"))
        return f"[{value or '_____'}]"
    return ""


def _rich_text(elements: Iterable[Mapping[str, Any]]) -> str:
    out: list[str] = []
    for el in elements:
        kind = el.get("type")
        if "elements" in el:
            inner = _rich_text(el["elements"])
            out.append(inner + ("\n" if kind in ("rich_text_section", "rich_text_preformatted") else ""))
        elif kind == "text":
            out.append(str(el.get("text", "")))
        elif kind == "link":
            out.append(str(el.get("text") or el.get("url", "")))
        elif kind == "user":
            out.append(f"<@{el.get('user_id')}>")
        elif kind == "channel":
            out.append(f"<#{el.get('channel_id')}>")
        elif kind == "emoji":
            out.append(f":{el.get('name')}:")
    return "".join(out)


def _block_lines(block: Mapping[str, Any]) -> list[str]:
    kind = block.get("type")
    lines: list[str] = []
    if kind == "header":
        lines.append(text_of(block.get("text")))
    elif kind == "section":
        if block.get("text"):
            lines.extend(text_of(block["text"]).split("\n"))
        for field in block.get("fields") or []:
            lines.extend(text_of(field).split("\n"))
        acc = block.get("accessory")
        if acc:
            rendered = _element_text(acc)
            if rendered:
                lines.append(rendered)
    elif kind == "divider":
        lines.append("---")
    elif kind == "context":
        parts = [_element_text(el) for el in block.get("elements") or []]
        lines.append(" ".join(p for p in parts if p))
    elif kind == "actions":
        parts = [_element_text(el) for el in block.get("elements") or []]
        lines.append(" ".join(p for p in parts if p))
    elif kind == "image":
        if block.get("title"):
            lines.append(text_of(block["title"]))
        lines.append(f"[image: {block.get('alt_text', '')}]")
    elif kind == "input":
        lines.append(text_of(block.get("label")) + ("" if not block.get("optional") else " (optional)"))
        el = block.get("element")
        if el:
            rendered = _element_text(el)
            if rendered:
                lines.append(rendered)
        if block.get("hint"):
            lines.append(text_of(block["hint"]))
    elif kind == "rich_text":
        lines.extend(_rich_text(block.get("elements") or []).rstrip("\n").split("\n"))
    elif kind == "markdown":
        lines.extend(str(block.get("text", "")).split("\n"))
    elif kind in ("file", "video"):
        lines.append(text_of(block.get("title")) or f"[{kind}]")
    return lines


def visible_lines(source: Any) -> list[str]:
    """The visual lines of a message dict, a view dict, or a list of blocks."""
    lines: list[str] = []
    if isinstance(source, Mapping):
        if source.get("type") in ("modal", "home"):
            if source.get("title"):
                lines.append(text_of(source["title"]))
            for block in source.get("blocks") or []:
                lines.extend(_block_lines(block))
            footer = [f"[{text_of(source[k])}]" for k in ("close", "submit") if source.get(k)]
            if footer:
                lines.append(" ".join(footer))
            return lines
        if source.get("blocks"):
            for block in source["blocks"]:
                lines.extend(_block_lines(block))
        elif source.get("text"):
            lines.extend(str(source["text"]).split("\n"))
        for att in source.get("attachments") or []:
            lines.extend(visible_lines(att) if att.get("blocks") else str(att.get("text") or "").split("\n"))
        for f in source.get("files") or []:
            lines.append(f"[file: {f.get('title') or f.get('name')}]")
        return lines
    for block in _blocks_of(source):
        lines.extend(_block_lines(block))
    return lines


def visible_text(blocks_or_message: Any) -> str:
    """One line per visual line; buttons as ``[Text]``; mrkdwn left as-is."""
    return "\n".join(visible_lines(blocks_or_message))


def _interactive_elements(block: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    kind = block.get("type")
    if kind == "section" and block.get("accessory"):
        return [block["accessory"]]
    if kind == "actions":
        return list(block.get("elements") or [])
    if kind == "input" and block.get("element"):
        return [block["element"]]
    return []


def buttons(blocks: Any) -> list[dict[str, Any]]:
    """Every button in a message/view/block list: text, action_id, block_id, value, style, url."""
    found: list[dict[str, Any]] = []
    for block in _blocks_of(blocks):
        for el in _interactive_elements(block):
            if el.get("type") != "button":
                continue
            found.append(
                {
                    "text": text_of(el.get("text")),
                    "action_id": el.get("action_id"),
                    "block_id": block.get("block_id"),
                    "value": el.get("value"),
                    "style": el.get("style"),
                    "url": el.get("url"),
                }
            )
    return found


def _options(el: Mapping[str, Any]) -> list[dict[str, Any]]:
    opts = list(el.get("options") or [])
    for group in el.get("option_groups") or []:
        opts.extend(group.get("options") or [])
    return [{"text": option_text(o), "value": o.get("value"), "option": dict(o)} for o in opts]


def selects(blocks: Any) -> list[dict[str, Any]]:
    """Every select menu (any kind) in a message/view/block list, with its options."""
    found: list[dict[str, Any]] = []
    for block in _blocks_of(blocks):
        for el in _interactive_elements(block):
            if el.get("type") not in _SELECT_TYPES and el.get("type") not in ("overflow", "radio_buttons"):
                continue
            found.append(
                {
                    "type": el.get("type"),
                    "action_id": el.get("action_id"),
                    "block_id": block.get("block_id"),
                    "placeholder": text_of(el.get("placeholder")),
                    "options": _options(el),
                    "element": dict(el),
                    "in_input": block.get("type") == "input",
                }
            )
    return found


def inputs(view: Any) -> list[dict[str, Any]]:
    """Input blocks of a view: label, block_id, action_id, type, options, optional, element."""
    found: list[dict[str, Any]] = []
    for block in _blocks_of(view):
        if block.get("type") != "input":
            continue
        el = block.get("element") or {}
        found.append(
            {
                "label": text_of(block.get("label")),
                "block_id": block.get("block_id"),
                "action_id": el.get("action_id"),
                "type": el.get("type"),
                "options": [{"text": o["text"], "value": o["value"]} for o in _options(el)],
                "optional": bool(block.get("optional")),
                "element": dict(el),
            }
        )
    return found
