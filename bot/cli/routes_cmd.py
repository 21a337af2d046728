"""`handoff routes export [file]` / `handoff routes import file [--replace]`: routing rules as YAML.

    rules:
      - name: EMEA enterprise
        priority: 10
        channel: C0123456789
        regions: [emea]
        segments: [enterprise]
        score_min: 70
        reps: [U0123, U0456]
        hot_usergroup: S0789
        hot_score: 80
        manager: U0999

Import upserts by name (all or nothing); --replace also removes rules that are not in the file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from bot.cli.workspace import resolve_team, transaction
from bot.config import Settings
from bot.domain.errors import InvalidInput
from bot.services.routing_rules import export_document, import_rules, list_rules, parse_document
from bot.storage.db import make_engine, make_session_factory


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("routes", help="import or export routing rules as YAML")
    actions = parser.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="write the rules as YAML (to stdout by default)")
    export.add_argument("file", nargs="?", help="where to write (default: stdout)")
    export.add_argument("--team-id", help="workspace (default: the only one)")
    imp = actions.add_parser("import", help="read rules from a YAML file")
    imp.add_argument("file", help="the YAML file (- for stdin)")
    imp.add_argument("--replace", action="store_true", help="remove rules that are not in the file")
    imp.add_argument("--team-id", help="workspace (default: the only one)")
    parser.set_defaults(func=run)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url)
    try:
        team = await resolve_team(settings, engine, args.team_id)
        factory = make_session_factory(engine)
        if args.action == "export":
            async with transaction(settings, factory, team) as ctx:
                doc = export_document(await list_rules(ctx))
            text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
            if args.file:
                _write(args.file, text)
                print(f"exported {len(doc['rules'])} rules to {args.file}", file=sys.stderr)
            else:
                sys.stdout.write(text)
            return 0
        try:
            raw = _read(args.file)
            specs = parse_document(yaml.safe_load(raw))
        except (OSError, yaml.YAMLError) as exc:
            print(f"handoff routes import: cannot read {args.file}: {exc}", file=sys.stderr)
            return 1
        except InvalidInput as exc:
            for where, why in exc.errors.items():
                print(f"handoff routes import: {where}: {why}", file=sys.stderr)
            print("nothing was changed", file=sys.stderr)
            return 1
        async with transaction(settings, factory, team) as ctx:
            summary = await import_rules(ctx, specs, replace=args.replace)
        print(
            f"added {len(summary.added)}, updated {len(summary.updated)}, removed {len(summary.removed)} rules",
            file=sys.stderr,
        )
        return 0
    finally:
        await engine.dispose()


# a CLI does nothing else meanwhile: plain blocking file I/O is fine here
def _read(file: str) -> str:
    return sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")


def _write(file: str, text: str) -> None:
    Path(file).write_text(text, encoding="utf-8")
