"""`handoff migrate`: bring the database schema up to date (a second run does nothing)."""

from __future__ import annotations

import argparse

from bot.config import Settings
from bot.storage.db import make_engine
from bot.storage.migrate import migrate


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("migrate", help="create or upgrade the database schema")
    parser.set_defaults(func=run)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url)
    try:
        before, after = await migrate(engine)
    finally:
        await engine.dispose()
    if before == after:
        print(f"database schema is up to date (revision {after})")
    else:
        print(f"database schema upgraded from {before or 'empty'} to {after}")
    return 0
