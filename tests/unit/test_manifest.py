"""app.yaml passes Slack's published manifest schema and agrees with the code, both ways."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot import messages
from bot.app import BOT_SCOPES, build_app
from bot.config import load_settings
from bot.ids import ESCAPED_COMMANDS

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT.parent / "shared" / "slack" / "manifest.schema.json"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "app.yaml").read_text())


@pytest.fixture(scope="module")
def handoff():
    settings = load_settings(
        slack_bot_token="xoxb-x", slack_signing_secret="s", database_url="sqlite+aiosqlite:///:memory:"
    )
    return build_app(settings, with_scheduler=False)


def test_manifest_passes_slacks_schema(manifest: dict) -> None:
    if not SCHEMA.exists():
        pytest.skip("../shared/slack/manifest.schema.json is not beside this checkout")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(manifest, schema)


def test_manifest_is_version_1(manifest: dict) -> None:
    assert manifest["_metadata"]["major_version"] == 1


def test_every_command_in_code_is_declared_and_vice_versa(manifest: dict, handoff) -> None:
    declared = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert declared == set(handoff.registered_commands)


def test_escaping_agrees_with_the_code(manifest: dict) -> None:
    """Commands that read IDs of users or channels from their text need Slack's escaping; the
    sandbox's driver sends every other command's text as typed (bot.ids.ESCAPED_COMMANDS)."""
    escaped = {c["command"] for c in manifest["features"]["slash_commands"] if c.get("should_escape")}
    assert escaped == {c.value for c in ESCAPED_COMMANDS}


def test_scopes_agree(manifest: dict) -> None:
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)


def test_events_agree(manifest: dict, handoff) -> None:
    declared = set(manifest["settings"].get("event_subscriptions", {}).get("bot_events", []))
    assert declared == set(handoff.registered_events)


def test_interactivity_is_on_because_cards_have_buttons(manifest: dict) -> None:
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_urls_point_at_the_one_events_endpoint(manifest: dict) -> None:
    urls = [c["url"] for c in manifest["features"]["slash_commands"]]
    urls.append(manifest["settings"]["interactivity"]["request_url"])
    urls.append(manifest["settings"].get("event_subscriptions", {}).get("request_url", urls[0]))
    assert all(u.endswith("/slack/events") for u in urls)


def _documented(command: str, names: tuple[str, ...], text: str) -> bool:
    """Is one of a subcommand's names (its aliases need not be) shown as `/command name`?"""
    for name in names:
        if name == "" and re.search(rf"`{command}[` ]", text):
            return True
        if name and re.search(rf"`{command} {name}[` <\[|]", text):
            return True
    return False


def _help_mentions(text: str) -> set[tuple[str, str]]:
    """Every `/command word` the help text shows ('' for the bare command or free text)."""
    found = set()
    for command, rest in re.findall(r"`(/[a-z]+)([^`]*)`", text):
        word = re.match(r" ([a-z]+)(?=$|[ <\[|])", rest)
        found.add((command, word.group(1) if word else ""))
    return found


def test_help_shows_every_registered_subcommand_and_nothing_else(handoff) -> None:
    registered = handoff.registered_subcommands
    assert set(registered) == set(handoff.registered_commands)
    missing = [
        f"{command} {names[0]}".strip()
        for command, groups in registered.items()
        for names in groups
        if not _documented(command, names, messages.HELP)
    ]
    assert missing == []
    unknown = [
        f"{command} {word}".strip()
        for command, word in _help_mentions(messages.HELP)
        if not any(word in names for names in registered.get(command, []))
    ]
    assert unknown == []


def test_usage_hints_agree_with_the_subcommands(manifest: dict, handoff) -> None:
    for entry in manifest["features"]["slash_commands"]:
        command, hint = entry["command"], entry.get("usage_hint", "")
        groups = handoff.registered_subcommands[command]
        words = set(re.findall(r"[a-z]+", hint))
        # the bare command ('' among the names) needs no hint; every subcommand does
        missing = [names[0] for names in groups if "" not in names and not words & set(names)]
        assert missing == [], command
        # each alternative starts with a subcommand, or is free text in brackets
        firsts = {alt.strip().split(" ")[0] for alt in hint.split(" | ")}
        names = {name for group in groups for name in group}
        assert {f for f in firsts if not f.startswith(("[", "("))} <= names, command


def test_a_subcommand_registered_without_help_would_fail(handoff) -> None:
    """The check above can fail: a new `/handoff frobnicate` not in the help is caught."""
    assert not _documented("/handoff", ("frobnicate",), messages.HELP)
    assert _documented("/handoff", ("route", "routes"), messages.HELP)
