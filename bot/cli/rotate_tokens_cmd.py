"""`handoff rotate-tokens`: re-encrypt stored installation tokens with the first key of
HANDOFF_ENCRYPTION_KEY (after putting a new key first), so the old key can then be dropped."""

from __future__ import annotations

import argparse

from bot.config import ConfigError, Settings
from bot.storage.db import make_engine
from bot.storage.encryption import make_cipher, rotate_tokens
from bot.storage.migrate import migrate


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("rotate-tokens", help="re-encrypt stored Slack tokens with the first key")
    parser.set_defaults(func=run)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    keys = settings.secret("encryption_key")
    if not keys:
        raise ConfigError("HANDOFF_ENCRYPTION_KEY: set it (NEW,OLD while rotating) to rotate tokens")
    engine = make_engine(settings.database_url)
    try:
        await migrate(engine)
        changed = await rotate_tokens(engine, make_cipher(keys))
    finally:
        await engine.dispose()
    print(f"re-encrypted {changed} stored token(s) with the first key; the old key can now be dropped")
    return 0
