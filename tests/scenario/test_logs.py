"""HANDOFF_LOG_FORMAT=json: one JSON object per line, tagged with the request, outbox row, lead
and workspace being worked on, and never a lead's data; probes and scrapes stay out of the
access log."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp

from bot.observability.logs import JsonFormatter, QuietAccessLogger, TextFormatter, log_context
from tests.conftest import ADMIN, OUTSIDER, REP1, SALES, RunningBot
from tests.scenario.helpers_intake import api

LEAD = {
    "email": "zelda.quux@private-example.com",
    "name": "Zelda Quux",
    "company": "Quuxcorp Confidential",
    "phone": "+44 20 7946 0999",
    "notes": "prefers calls after 5",
}


@contextmanager
def json_logs(level: int = logging.INFO) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_json_lines_carry_ids_but_no_lead_data(bot: RunningBot) -> None:
    team = await bot.handoff.default_team_id()
    del bot.fake.channels[SALES]  # the card fails for good: the sender logs it
    with json_logs() as stream:
        status, body, _ = await api(bot, LEAD)
        assert status == 201
        await bot.flush()
        # a click from someone outside the channel: the refusal is logged inside the request
        bot.fake.add_channel(SALES, name="sales", members=[REP1])
        await bot.slack.command(ADMIN, "/handoff", "status retry")
        await bot.flush()
        assert (await bot.slack.click(OUTSIDER, "Claim", channel_id=SALES)).status == 200
    entries = lines(stream)
    assert entries, "nothing was logged"
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
    text = stream.getvalue()
    for value in LEAD.values():
        assert value not in text
    assert "Zelda" not in text and "Quuxcorp" not in text
    [failed] = [e for e in entries if "failed for good" in e["message"]]
    assert failed["lead_id"] == body["id"] and failed["team_id"] == team and failed["outbox_id"] > 0
    [refused] = [e for e in entries if e["message"].startswith("refused")]
    assert refused["team_id"] == team and len(refused["request_id"]) == 12
    assert "outbox_id" not in refused


def test_log_context_nests_and_resets() -> None:
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    with log_context(request_id="abc", team_id="T1"):
        with log_context(outbox_id=7, lead_id=None):
            inner = json.loads(JsonFormatter().format(record))
        outer = TextFormatter().format(record)
    after = json.loads(JsonFormatter().format(record))
    assert inner["message"] == "hello there"
    assert (inner["request_id"], inner["team_id"], inner["outbox_id"]) == ("abc", "T1", 7)
    assert "lead_id" not in inner  # None is left out
    assert outer.endswith("hello there [request_id=abc team_id=T1]")
    assert not {"request_id", "team_id", "outbox_id"} & after.keys()


async def test_access_log_leaves_out_probes_scrapes_and_queries(bot: RunningBot) -> None:
    from aiohttp import web

    stream = io.StringIO()
    logger = logging.getLogger("test.access")
    logger.addHandler(logging.StreamHandler(stream))
    logger.setLevel(logging.INFO)
    logger.propagate = False
    runner = web.AppRunner(bot.handoff.web, access_log=logger, access_log_class=QuietAccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as session:
            for path in ("/healthz", "/readyz", "/metrics", "/api/openapi.json?team_id=T0SECRET"):
                async with session.get(f"http://127.0.0.1:{port}{path}") as resp:
                    await resp.read()
    finally:
        await runner.cleanup()
    logged = stream.getvalue().splitlines()
    assert len(logged) == 1 and logged[0].startswith("GET /api/openapi.json 200")
    assert "T0SECRET" not in stream.getvalue()
