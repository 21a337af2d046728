"""`handoff run`: migrate, then serve Slack (HTTP or Socket Mode) and the HTTP API until a signal.
`handoff run --check` only checks that it could (bot/cli/check.py)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal

from aiohttp import web

from bot.app import Handoff, build_app
from bot.cli.check import check
from bot.config import ConfigError, Settings
from bot.observability.logs import QuietAccessLogger
from bot.observability.readiness import Phase
from bot.slack.socket_edge import AppTokenRefused
from bot.storage.migrate import migrate

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="run the bot")
    parser.add_argument("--port", type=int, default=None, help="override PORT")
    parser.add_argument(
        "--check",
        action="store_true",
        help="check the configuration, the database and Slack's auth.test, then exit (0: all good)",
    )
    parser.set_defaults(func=run)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.check:
        return await check(settings)
    if not has_any_slack_credential(settings):
        # a fresh machine: show the product against a simulated Slack instead of an error
        from bot.cli.sandbox_cmd import serve_sandbox

        print(
            "handoff: no Slack credentials set (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET): "
            "starting the local sandbox. See README: Creating the Slack app.",
            flush=True,
        )
        port = args.port if args.port is not None else settings.port
        await serve_sandbox(settings, port=port)
        return 0
    missing = settings.missing_slack_credentials()
    if missing:
        # half-configured: a real deployment with a typo must not quietly become a sandbox
        raise ConfigError(
            f"missing Slack credentials: set {', '.join(missing)} (see README: Creating the Slack app)"
        )
    if args.port is not None:
        settings = settings.model_copy(update={"port": args.port})
    handoff = build_app(settings)
    await serve(handoff)
    return 0


def has_any_slack_credential(settings: Settings) -> bool:
    return any(
        getattr(settings, name) is not None
        for name in (
            "slack_bot_token",
            "slack_signing_secret",
            "slack_app_token",
            "slack_client_id",
            "slack_client_secret",
        )
    )


async def serve(handoff: Handoff, *, ready: asyncio.Event | None = None) -> None:
    """Serve until SIGTERM/SIGINT, then stop gracefully: /readyz says 503 while the schema is
    migrated (the port is open already, so probes get an answer) and for HANDOFF_DRAIN_SECONDS
    after the signal, before the server stops taking requests."""
    settings = handoff.settings
    runners: list[web.AppRunner] = []
    socket_edge = handoff.socket_edge
    handoff.readiness.set(Phase.MIGRATING)
    try:
        for app, port in ((handoff.web, settings.port), (handoff.metrics_web, settings.metrics_port)):
            if app is None or port is None:
                continue
            runner = web.AppRunner(app, shutdown_timeout=10, access_log_class=QuietAccessLogger)
            await runner.setup()
            runners.append(runner)
            await web.TCPSite(runner, settings.host, port).start()
        before, after = await migrate(handoff.engine)
        if before != after:
            log.info("database schema upgraded from %s to %s", before or "empty", after)
        if socket_edge is not None:
            try:
                # a refused app token ends start-up; an unreachable Slack is retried in the background
                await socket_edge.start()
            except AppTokenRefused as exc:
                raise ConfigError(str(exc)) from None
        await handoff.start_background()
        freeze_startup_heap()
        handoff.readiness.set(Phase.READY)
        log.info(
            "Handoff listening on %s:%s (%s mode)",
            settings.host,
            settings.port,
            "socket" if socket_edge else "http",
        )
        await until_stopped(ready)
        handoff.readiness.set(Phase.DRAINING)
        log.info("shutting down: not ready any more, requests served for %ss more", settings.drain_seconds)
        await asyncio.sleep(settings.drain_seconds)
    finally:
        if socket_edge is not None:
            await socket_edge.close()
        for runner in runners:
            await runner.cleanup()  # stops accepting, lets in-flight requests finish
        await handoff.close()


def freeze_startup_heap() -> None:
    """Move everything start-up made (modules, mappers, Bolt, the compiled SQL) out of the garbage
    collector's sight. A full collection walked all of it under load: 80-180 ms pauses of the event
    loop, the tail of request latency (bench.jobs: longest GC per phase); after this, 4-22 ms."""
    gc.collect()
    gc.freeze()


async def until_stopped(ready: asyncio.Event | None = None) -> None:
    """Wait for SIGTERM or SIGINT (Ctrl-C); `ready` is set once the handlers are in place, so a
    test (or a supervisor in-process) knows when the server is up."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    await stop.wait()
