"""The command line imports only the module of the subcommand asked for, and its table of
subcommands names each module's own parser."""

from __future__ import annotations

import argparse
import subprocess
import sys

from bot.cli import SUBCOMMANDS, build_parser


def subcommands(parser: argparse.ArgumentParser) -> list[str]:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(action.choices)


def test_every_subcommand_is_registered_under_its_table_name() -> None:
    assert subcommands(build_parser()) == list(SUBCOMMANDS)
    for name in SUBCOMMANDS:
        assert subcommands(build_parser([name, "--anything"])) == [name]
    assert subcommands(build_parser(["--help"])) == list(SUBCOMMANDS)
    assert subcommands(build_parser(["mirgate"])) == list(SUBCOMMANDS)  # argparse lists the choices


def test_a_database_command_does_not_import_the_bot() -> None:
    probe = (
        "import sys\n"
        "from bot.cli import build_parser\n"
        "args = build_parser(['tokens', 'list']).parse_args(['tokens', 'list', '--team-id', 'T1'])\n"
        "assert args.command == 'tokens', args\n"
        "print(sorted(m for m in ('bot.app', 'bot.cli.run_cmd', 'bot.sandbox', 'slack_bolt') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
