"""`handoff webhooks add <url> [--events …] [--secret whsec_…] | list | remove <id> | test <id> |
enable <id> | replay --since WHEN [--endpoint ID]` [--team-id T]: a workspace's outbound-event
endpoints (Standard Webhooks). `add` prints the signing secret once, alone on stdout, so a script
can capture it; everything else goes to stderr. A running bot sends what these queue within its
next poll (a second)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

from bot.cli.workspace import resolve_team, transaction
from bot.config import Settings
from bot.domain.errors import HandoffError, InvalidInput
from bot.services import webhooks
from bot.storage.db import make_engine, make_session_factory


def since_arg(text: str) -> datetime:
    """An ISO date or time (UTC unless it says), or a span back from now: 90m, 6h, 3d."""
    text = text.strip()
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if text[-1:] in units and text[:-1].isdigit():
        return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("an ISO date/time (2026-11-30T12:00) or a span (6h, 3d)") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "webhooks", help="signed outbound events: add, list, remove, test, enable, replay"
    )
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="a new endpoint (its secret is printed once)")
    add.add_argument("url")
    add.add_argument("--events", default="*", help="'*' (default), 'lead.*', or types, comma separated")
    add.add_argument("--secret", help="whsec_… to use instead of a new one")
    listing = actions.add_parser("list", help="endpoints, their events and state")
    chosen = []
    for name, what in (
        ("remove", "stop sending to it"),
        ("test", "send it a webhook.test event"),
        ("enable", "after it was disabled"),
    ):
        action = actions.add_parser(name, help=what)
        action.add_argument("endpoint", help="its ID (or URL)")
        chosen.append(action)
    replay = actions.add_parser("replay", help="send the events since WHEN again (same webhook-id)")
    replay.add_argument("--since", type=since_arg, required=True, help="ISO date/time (UTC) or 6h, 3d")
    replay.add_argument("--endpoint", help="only this endpoint (ID or URL)")
    for action in (add, listing, replay, *chosen):
        action.add_argument("--team-id", help="workspace (default: the only one)")
    parser.set_defaults(func=run)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url)
    out: list[str] = []
    secret: str | None = None
    try:
        team = await resolve_team(settings, engine, args.team_id)
        factory = make_session_factory(engine)
        try:
            async with transaction(settings, factory, team) as ctx:
                if args.action == "add":
                    made = await webhooks.add_endpoint(
                        ctx, args.url, events=args.events, secret=args.secret, by=None
                    )
                    secret = made.secret
                    out.append(
                        f"endpoint #{made.endpoint.id} for {made.endpoint.url} ({', '.join(made.endpoint.events)}) in workspace {team}; its signing secret:"
                    )
                elif args.action == "list":
                    rows = await webhooks.list_endpoints(ctx)
                    for row in rows:
                        print(webhooks.describe(row))
                    if not rows:
                        out.append(f"no webhook endpoints in workspace {team}")
                elif args.action == "remove":
                    gone = await webhooks.remove_endpoint(ctx, args.endpoint)
                    out.append(f"removed endpoint #{gone.id} ({gone.url})")
                elif args.action == "test":
                    event = await webhooks.send_test(ctx, args.endpoint)
                    out.append(f"queued webhook.test event {event.id} (a running bot sends it)")
                elif args.action == "enable":
                    endpoint = await webhooks.enable_endpoint(ctx, args.endpoint)
                    out.append(f"enabled endpoint #{endpoint.id} ({endpoint.url})")
                else:
                    queued = await webhooks.replay(ctx, args.since, ref=args.endpoint)
                    out.append(f"queued {queued} deliveries of events since {args.since.isoformat()}")
        except InvalidInput as exc:
            for where, why in exc.errors.items():
                print(f"handoff webhooks: {where}: {why}", file=sys.stderr)
            return 1
        except HandoffError as exc:
            print(f"handoff webhooks: {exc}", file=sys.stderr)
            return 1
    finally:
        await engine.dispose()
    for line in out:
        print(line, file=sys.stderr)
    if secret is not None:
        print(secret)
    return 0
