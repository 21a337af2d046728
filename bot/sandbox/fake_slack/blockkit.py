"""Block Kit as Slack checks it: slack_sdk's models plus the size limits Slack enforces."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
MAX_TEXT = 40_000


def normalize_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill in block_id and action_id where the sender left them out, as Slack does."""
    out = copy.deepcopy(blocks)
    for block in out:
        if isinstance(block, dict):
            block.setdefault("block_id", secrets.token_urlsafe(4)[:5])
            elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
            for key in ("accessory", "element"):
                if isinstance(block.get(key), dict):
                    elements.append(block[key])
            for el in elements:
                if isinstance(el, dict) and el.get("type") not in (None, "image", "plain_text", "mrkdwn"):
                    el.setdefault("action_id", secrets.token_urlsafe(4)[:5])
    return out


def blocks_violations(blocks: Any, *, limit: int, where: str) -> list[str]:
    """What Slack would refuse in a ``blocks`` array of at most ``limit`` blocks."""
    if not isinstance(blocks, list):
        return [f"{where}: blocks must be an array"]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(
            f"{where}: {len(blocks)} blocks; no more than {limit} items allowed [json-pointer:/blocks]"
        )
    seen_ids: set[str] = set()
    for i, raw in enumerate(blocks):
        kind = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
        try:
            parsed = Block.parse(raw)
            if parsed is None:
                errors.append(f"{where}: unsupported block type {kind!r} [json-pointer:/blocks/{i}]")
                continue
            parsed.validate_json()
            parsed.to_dict()  # validates nested elements and text objects too
        except (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError) as e:
            errors.append(f"{where}: blocks[{i}] ({kind}): {e} [json-pointer:/blocks/{i}]")
            continue
        block_id = raw.get("block_id")
        if block_id:
            if block_id in seen_ids:
                errors.append(f"{where}: duplicate block_id {block_id!r} [json-pointer:/blocks/{i}/block_id]")
            seen_ids.add(block_id)
        if raw.get("type") == "actions":
            action_ids = [el.get("action_id") for el in raw.get("elements") or [] if el.get("action_id")]
            if len(action_ids) != len(set(action_ids)):
                errors.append(f"{where}: duplicate action_id in blocks[{i}] [json-pointer:/blocks/{i}]")
    return errors


def message_violations(payload: dict[str, Any], *, where: str) -> list[str]:
    """Slack's checks on a message's blocks, plus the plain ``text`` fallback that should go with them."""
    blocks = payload.get("blocks")
    if blocks is None:
        return []
    errors = blocks_violations(blocks, limit=MESSAGE_BLOCK_LIMIT, where=where)
    text = payload.get("text")
    if blocks and not (isinstance(text, str) and text.strip()):
        errors.append(f"{where}: blocks sent without a plain `text` fallback (notifications show nothing)")
    return errors


def view_violations(view: Any, *, where: str) -> list[str]:
    """Slack's checks on a modal or Home view: slack_sdk's model, the block limit, title and submit."""
    if not isinstance(view, dict):
        return [f"{where}: view must be an object"]
    errors: list[str] = []
    try:
        parsed = View(**view)
        parsed.validate_json()
        parsed.to_dict()
    except (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError) as e:
        errors.append(f"{where}: view: {e}")
    errors.extend(blocks_violations(view.get("blocks") or [], limit=VIEW_BLOCK_LIMIT, where=where))
    if view.get("type") == "modal":
        if not view.get("title"):
            errors.append(f"{where}: modal needs a title")
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and not view.get("submit"):
            errors.append(f"{where}: a modal with input blocks needs a submit button")
    return errors
