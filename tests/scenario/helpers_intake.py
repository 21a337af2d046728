"""Helpers shared by the intake scenario tests: API calls and row counts."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bot.storage.models import Lead, LeadEvent, Outbox
from tests.conftest import INTAKE_TOKEN, RunningBot


async def api(
    bot: RunningBot,
    body: Any = None,
    *,
    raw: bytes | None = None,
    token: str | None = INTAKE_TOKEN,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    path: str = "/api/leads",
) -> tuple[int, Any, dict[str, str]]:
    hdrs = {"Content-Type": "application/json"}
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    hdrs.update(headers or {})
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    async with aiohttp.ClientSession() as session:
        async with session.request(method, bot.url + path, data=data, headers=hdrs) as resp:
            text = await resp.text()
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
            return resp.status, parsed, dict(resp.headers)


async def counts(bot: RunningBot) -> tuple[int, int, int]:
    """(leads, lead events, outbox rows): what a half-written lead would leave behind."""
    async with bot.handoff.uow() as uow:
        leads = await uow.session.scalar(select(func.count(Lead.id)))
        events = await uow.session.scalar(select(func.count(LeadEvent.id)))
        outbox = await uow.session.scalar(select(func.count(Outbox.id)))
    return int(leads or 0), int(events or 0), int(outbox or 0)


def mrkdwn_texts(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["text"]] if node.get("type") == "mrkdwn" else []
        return found + [t for value in node.values() for t in mrkdwn_texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_texts(item)]
    return []


INJECTIONS = {
    "name": "<!channel> Free money",
    "company": "<@U0REP1> & <#C0SALES>",
    "title": "<!here>",
    "source": "<!everyone>",
    "campaign": "<https://evil.example|click>",
    "region": "<!subteam^S1>",
    "segment": "<@U0ADMIN>",
    "notes": "<https://evil.example|click> <!subteam^S1> *bold* `code`",
}
RAW_MARKUP = (
    "<!channel>",
    "<@U0REP1>",
    "<#C0SALES>",
    "<!here>",
    "<!everyone>",
    "<https://evil",
    "<!subteam",
    "<@U0ADMIN>",
)
