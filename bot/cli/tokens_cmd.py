"""`handoff tokens create <name> | list | revoke <name> [--team-id T…]`: a workspace's lead-API
tokens, for operators (admins in Slack use `/handoff tokens`). `create` prints the token once,
alone on stdout, so a script can capture it; everything else goes to stderr."""

from __future__ import annotations

import argparse
import sys

from bot.cli.workspace import resolve_team, transaction
from bot.config import Settings
from bot.domain.errors import HandoffError, InvalidInput
from bot.services.api_tokens import create_token, list_tokens, revoke_token
from bot.storage.db import make_engine, make_session_factory


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("tokens", help="make, list or revoke a workspace's lead-API tokens")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a token (printed once)")
    create.add_argument("name", help="what uses it, e.g. hubspot")
    listing = actions.add_parser("list", help="names, key IDs, last use")
    revoke = actions.add_parser("revoke", help="stop a token at once")
    revoke.add_argument("name")
    for action in (create, listing, revoke):
        action.add_argument("--team-id", help="workspace (default: the only one)")
    parser.set_defaults(func=run)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url)
    try:
        team = await resolve_team(settings, engine, args.team_id)
        factory = make_session_factory(engine)
        try:
            async with transaction(settings, factory, team) as ctx:
                if args.action == "create":
                    made = await create_token(ctx, args.name, by=None)
                elif args.action == "revoke":
                    row = await revoke_token(ctx, args.name)
                else:
                    rows = await list_tokens(ctx)
        except InvalidInput as exc:
            for where, why in exc.errors.items():
                print(f"handoff tokens: {where}: {why}", file=sys.stderr)
            return 1
        except HandoffError as exc:
            print(
                f"handoff tokens: {exc}".replace("`/handoff tokens list`", "`handoff tokens list`"),
                file=sys.stderr,
            )
            return 1
    finally:
        await engine.dispose()
    if args.action == "create":
        print(
            f"token {made.row.name!r} for workspace {team} (key ID {made.row.key_id}); "
            "copy it now, it is not shown again:",
            file=sys.stderr,
        )
        print(made.token)
    elif args.action == "revoke":
        print(f"revoked {row.name!r} ({row.key_id}) in workspace {team}", file=sys.stderr)
    else:
        for r in rows:
            state = f"revoked {r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else "active"
            used = f"{r.last_used_at:%Y-%m-%d %H:%M}" if r.last_used_at else "never"
            print(
                f"{r.name}\t{r.key_id}\t{state}\tcreated {r.created_at:%Y-%m-%d %H:%M} by {r.created_by or 'CLI'}\tlast used {used}"
            )
        if not rows:
            print(f"no tokens in workspace {team}", file=sys.stderr)
    return 0
