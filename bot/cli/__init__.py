"""The `handoff` command line: one module per subcommand, each with add_parser(subparsers)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.cli import (
    export_cmd,
    import_cmd,
    import_signals_cmd,
    migrate_cmd,
    rotate_tokens_cmd,
    routes_cmd,
    run_cmd,
    sandbox_cmd,
    tokens_cmd,
    webhooks_cmd,
)
from bot.config import ConfigError, load_settings
from bot.observability.logs import configure_logging

SUBCOMMANDS = [
    run_cmd,
    migrate_cmd,
    import_cmd,
    import_signals_cmd,
    export_cmd,
    routes_cmd,
    sandbox_cmd,
    rotate_tokens_cmd,
    tokens_cmd,
    webhooks_cmd,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="handoff", description="Handoff: leads from marketing to sales, in Slack."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
