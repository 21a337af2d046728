"""At DEBUG, nothing a lead is made of (name, email, company, phone, notes) reaches any log record:
not ours, not slack_sdk's request and response bodies, not Bolt's, not aiohttp's."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import REP1, SALES, RunningBot
from tests.scenario.helpers_intake import api

SECRETS = {
    "email": "zanzibar.quokka@privatemail.example",
    "name": "Zanzibar Quokkafeather",
    "company": "Quokkafeather Holdings",
    "phone": "+44 20 7946 0999",
    "notes": "budget 91837 approved by Wibblethwaite",
}


def pieces(value: str) -> set[str]:
    """The value and the parts of it a log could carry alone. A short run of digits is no
    evidence: "0999" turns up in memory addresses (CI saw one in SQLAlchemy's DEBUG lines)."""
    found = {value, value.split("@")[0], value.split()[-1], " ".join(value.split()[-2:])}
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) >= 8:
        found.add(digits[-8:])  # the number however it was formatted (+442079460999, …)
    return {p for p in found if not (p.isdigit() and len(p) < 8)}


def leaks(caplog: pytest.LogCaptureFixture) -> list[str]:
    found = []
    for record in caplog.records:
        text = record.getMessage() + repr(record.args) + repr(getattr(record, "exc_text", ""))
        for value in SECRETS.values():
            for piece in pieces(value):
                if piece in text:
                    found.append(f"{record.name} {record.levelname}: {piece!r} in {text[:300]!r}")
    return found


async def test_a_lead_posted_carded_and_claimed_at_debug_leaves_no_trace_in_the_logs(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):  # loggers that set their own level, too
        caplog.set_level(logging.DEBUG, logger=name)
    status, _, _ = await api(bot, {**SECRETS, "source": "webinar"})
    assert status == 201
    await bot.flush()
    reply = await bot.slack.click(REP1, "Claim", channel_id=SALES)
    assert reply.status == 200
    await bot.flush()
    [card] = bot.fake.messages(SALES)
    assert SECRETS["name"] in str(card.blocks)  # the data went to Slack...
    assert any(r.name.startswith("slack_sdk") for r in caplog.records)  # ...with DEBUG logging on
    assert leaks(caplog) == []
    assert pieces(SECRETS["phone"]) == {"+44 20 7946 0999", "7946 0999", "79460999"}
    # what an operator debugging wants is still there: which Slack method, which status, which SQL
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("Sending a request - url: POST ") and "chat.postMessage" in m for m in messages)
    assert any(m.startswith("Received the following response - status: 200") for m in messages)
    assert any(m.startswith("INSERT INTO lead ") for m in messages)
