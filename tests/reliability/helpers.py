"""Shared helpers for the reliability tests: leads through the intake service, card counting."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from bot.app import Handoff
from bot.domain.lead_input import parse_lead
from bot.sandbox import FakeSlack
from bot.services.intake import submit_lead
from bot.storage.models import Outbox


async def add_lead(handoff: Handoff, team_id: str | None = None, **fields: Any) -> int:
    data = {"email": "jane@acme.com", "name": "Jane Doe", "company": "Acme", "source": "webinar", **fields}
    team = team_id or await handoff.default_team_id()
    assert team
    async with handoff.open_context(team) as ctx:
        result = await submit_lead(ctx, parse_lead(data), origin="api")
    return result.lead.id


def card_counts(fake: FakeSlack, channels: list[str]) -> Counter[int]:
    """How many top-level lead cards each lead ID has across the given channels."""
    counts: Counter[int] = Counter()
    for channel in channels:
        for message in fake.messages(channel):
            lead_id = card_lead_id(message.blocks)
            if lead_id is not None:
                counts[lead_id] += 1
    return counts


def card_lead_id(blocks: list[dict[str, Any]]) -> int | None:
    """The lead ID in a card's context line ("#42 · received ...")."""
    for block in blocks:
        if block.get("type") == "context":
            for element in block.get("elements") or []:
                found = re.match(r"#(\d+) · received", str(element.get("text") or ""))
                if found:
                    return int(found.group(1))
    return None


async def outbox_rows(handoff: Handoff) -> list[Outbox]:
    from sqlalchemy import select

    async with handoff.uow() as uow:
        return list(await uow.session.scalars(select(Outbox).order_by(Outbox.id)))
