"""The `handoff` command line: one module per subcommand, each with add_parser(subparsers)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Sequence

from bot.config import ConfigError, load_settings
from bot.observability.logs import configure_logging

# subcommand -> its module in bot.cli. Only the module of the subcommand asked for is imported:
# `run` needs the whole bot, `migrate` or `tokens list` a part of it, and start in half the time.
SUBCOMMANDS = {
    "run": "run_cmd",
    "migrate": "migrate_cmd",
    "import": "import_cmd",
    "import-signals": "import_signals_cmd",
    "export": "export_cmd",
    "routes": "routes_cmd",
    "sandbox": "sandbox_cmd",
    "rotate-tokens": "rotate_tokens_cmd",
    "tokens": "tokens_cmd",
    "webhooks": "webhooks_cmd",
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line; when `argv` names a subcommand, the parser knows only that one (the
    others' modules stay unimported), else every subcommand (for --help and mistyped names)."""
    parser = argparse.ArgumentParser(
        prog="handoff", description="Handoff: leads from marketing to sales, in Slack."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    asked = next((arg for arg in argv or () if not arg.startswith("-")), None)
    for name, module in SUBCOMMANDS.items():
        if asked not in SUBCOMMANDS or name == asked:
            importlib.import_module(f"bot.cli.{module}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"handoff: configuration error: {exc}", file=sys.stderr)
        return 1 if getattr(args, "check", False) else 2  # --check: every problem exits 1
    configure_logging(settings.log_level, settings.log_format)
    # their INFO lines (each job added, each migration context) drown what a person needs to see
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    try:
        return int(asyncio.run(args.func(settings, args)) or 0)
    except ConfigError as exc:
        print(f"handoff: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
