"""The floor for the ack benchmark: a bare slack-bolt AsyncApp whose listeners only ack.

Served the way Handoff is served (aiohttp, the same body handling, `process_before_response=True`,
one single-workspace token pointed at the fake Slack), but with Bolt's own signature verification
instead of Handoff's edge check, so the two apps pay a comparable signing cost.

`python -m bench.bare_app` reads SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL and PORT.
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

from bot.ids import ActionId, Command

MAX_SLACK_BODY = 1024 * 1024


def build(token: str, signing_secret: str, api_url: str) -> web.Application:
    bolt = AsyncApp(
        client=AsyncWebClient(base_url=api_url, token=token),
        signing_secret=signing_secret,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )

    async def ack_only(ack) -> None:
        await ack()

    for command in Command:
        bolt.command(command.value)(ack_only)
    bolt.action(ActionId.CLAIM.value)(ack_only)

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
    app = build(
        os.environ["SLACK_BOT_TOKEN"], os.environ["SLACK_SIGNING_SECRET"], os.environ["SLACK_API_URL"]
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


def main() -> None:
    logging.basicConfig(level=logging.WARNING)  # as Handoff runs with HANDOFF_LOG_LEVEL=WARNING
    asyncio.run(serve())


if __name__ == "__main__":
    main()
