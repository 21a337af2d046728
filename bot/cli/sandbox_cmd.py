"""`handoff sandbox`: the whole product on this machine, with Slack simulated in a browser page.

`handoff run` lands here too when no Slack credential is set at all, so the README's first command
works on a fresh machine.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from sqlalchemy.engine import make_url

from bot.config import ConfigError, Settings
from bot.sandbox.server import Sandbox


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "sandbox", help="try Handoff locally: the real bot against a simulated Slack in your browser"
    )
    parser.add_argument("--port", type=int, default=None, help="port of the sandbox page (default: PORT)")
    parser.add_argument("--bot-port", type=int, default=0, help="port of the bot itself (default: any free)")
    parser.add_argument("--demo", action="store_true", help="seed a realistic workspace (once, when empty)")
    parser.add_argument(
        "--reset", action="store_true", help="forget the sandbox's leads, settings and messages first"
    )
    parser.set_defaults(func=run)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    port = args.port if args.port is not None else settings.port
    await serve_sandbox(settings, port=port, bot_port=args.bot_port, demo=args.demo, reset=args.reset)
    return 0


async def serve_sandbox(
    settings: Settings,
    *,
    port: int,
    bot_port: int = 0,
    demo: bool = False,
    reset: bool = False,
    ready: asyncio.Event | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT."""
    seed = None
    if demo:
        from bot.sandbox.demo import seed_demo

        seed = seed_demo
    sandbox = Sandbox(settings=settings, port=port, bot_port=bot_port)
    try:
        await sandbox.start(seed=seed, reset=reset)
    except OSError as exc:
        raise ConfigError(
            f"PORT: cannot listen on 127.0.0.1:{port} ({exc.strerror}); choose another with --port"
        ) from None
    try:
        print(banner(sandbox, settings), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if ready is not None:
            ready.set()
        await stop.wait()
        print("Handoff sandbox: shutting down", flush=True)
    finally:
        await sandbox.stop()


def banner(sandbox: Sandbox, settings: Settings) -> str:
    db = make_url(sandbox.database_url).render_as_string(hide_password=True)
    token = (
        "your HANDOFF_INTAKE_TOKEN"
        if settings.intake_token is not None
        else sandbox.handoff.settings.secret("intake_token")  # type: ignore[union-attr]
    )
    lines = [
        "",
        "Handoff sandbox: the real bot, with Slack simulated on this machine (no Slack app needed).",
        f"  Open {sandbox.url} in your browser.",
        f"  Bot (HTTP mode): {sandbox.bot_url}  — lead API: POST /api/leads, Bearer {token}",
        f"  Database: {db}",
        f"  Slack messages are kept in {sandbox.state_path}; --reset starts over.",
    ]
    if sandbox.seeded is False:
        lines.append("  --demo: the workspace already has leads, so nothing was added.")
    elif sandbox.seeded:
        lines.append("  --demo: seeded rules, leads with feedback, targets and a discussion.")
    lines.append("Press Ctrl+C to stop.")
    return "\n".join(lines)
