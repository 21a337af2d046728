"""The floors for the ack benchmark: a bare slack-bolt AsyncApp whose listeners only ack, or (with
FLOOR_DATABASE_URL set) whose Claim and `/lead <text>` listeners first run the same SQL statements
Handoff's do through the raw driver (bench/floor_sql.py) and ack after the commit, as Handoff does.

Served the way Handoff is served (aiohttp, the same body handling, `process_before_response=True`,
one single-workspace token pointed at the fake Slack), but with Bolt's own signature verification
instead of Handoff's edge check, so the two apps pay a comparable signing cost.

`python -m bench.bare_app` reads SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL and PORT, and
optionally FLOOR_DATABASE_URL and FLOOR_SALES_CHANNEL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bench.floor_sql import Floor
from bot.ids import ActionId, Command

MAX_SLACK_BODY = 1024 * 1024


def build(token: str, signing_secret: str, api_url: str, floor: Floor | None = None) -> web.Application:
    bolt = AsyncApp(
        client=AsyncWebClient(base_url=api_url, token=token),
        signing_secret=signing_secret,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )

    async def ack_only(ack) -> None:
        await ack()

    async def claim_then_ack(ack, body, action) -> None:
        assert floor is not None
        await floor.claim(body["team"]["id"], int(action["value"].split(":", 1)[0]), body["user"]["id"])
        await ack()

    async def lead_then_ack(ack, body, command) -> None:
        assert floor is not None
        text = command.get("text") or ""
        if not text.strip():
            await ack()
            return
        lead_id = await floor.quick_add(body.get("team_id") or command["team_id"], text, command["user_id"])
        await ack(text=f"Lead #{lead_id} added")

    for command in Command:
        writes = floor is not None and command is Command.LEAD
        bolt.command(command.value)(lead_then_ack if writes else ack_only)
    bolt.action(ActionId.CLAIM.value)(claim_then_ack if floor is not None else ack_only)

    async def slack_events(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if len(body) > MAX_SLACK_BODY:
            return web.json_response({"error": "request body too large"}, status=413)
        bolt_request = AsyncBoltRequest(
            body=body.decode("utf-8", errors="replace"),
            query=request.query_string,
            headers=dict(request.headers),
        )
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    async def healthz(request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
    return app


async def serve() -> None:
    floor = None
    if os.environ.get("FLOOR_DATABASE_URL"):
        floor = Floor(os.environ["FLOOR_DATABASE_URL"], os.environ.get("FLOOR_SALES_CHANNEL", ""))
        await floor.open()
    app = build(
        os.environ["SLACK_BOT_TOKEN"],
        os.environ["SLACK_SIGNING_SECRET"],
        os.environ["SLACK_API_URL"],
        floor,
    )
    runner = web.AppRunner(app, shutdown_timeout=10)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ["PORT"])).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    if floor is not None:
        await floor.close()


def main() -> None:
    logging.basicConfig(level=logging.WARNING)  # as Handoff runs with HANDOFF_LOG_LEVEL=WARNING
    asyncio.run(serve())


if __name__ == "__main__":
    main()
