"""app.yaml passes Slack's published manifest schema and agrees with the code, both ways."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.app import BOT_SCOPES, build_app
from bot.config import load_settings

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
