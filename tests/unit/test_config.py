"""Settings: the public variable names, one clear line for a wrong value, secrets never shown."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings

STRONG = "k3J9-xQ2vL7pZ0aB5nR8tW1yE4uI6oPs"  # 32 characters, random-looking


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith(("SLACK_", "HANDOFF_")) or key in ("DATABASE_URL", "PORT"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults() -> None:
    s = load_settings()
    assert s.database_url == "sqlite+aiosqlite:///handoff.db"
    assert s.port == 3000 and s.timezone == "UTC" and s.admins == ()
    assert s.slack_api_url == "https://slack.com/api/"
    assert not s.socket_mode and not s.oauth_enabled


def test_reads_the_documented_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "sig",
        "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_API_URL": "http://127.0.0.1:9/api",
        "SLACK_CLIENT_ID": "123.456",
        "SLACK_CLIENT_SECRET": "cs",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1/test",
        "PORT": "8080",
        "HANDOFF_INTAKE_TOKEN": STRONG,
        "HANDOFF_ALLOW_PLAINTEXT_TOKENS": "true",
        "HANDOFF_SALES_CHANNEL": "C01",
        "HANDOFF_MARKETING_CHANNEL": "C02",
        "HANDOFF_PARTNERSHIP_CHANNEL": "C03",
        "HANDOFF_ADMINS": "U1, U2,,",
        "HANDOFF_TIMEZONE": "Europe/Berlin",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    s = load_settings()
    assert s.secret("slack_bot_token") == "xoxb-1" and s.socket_mode and s.oauth_enabled
    assert s.slack_api_url == "http://127.0.0.1:9/api/"
    assert s.database_url == "postgresql+asyncpg://postgres@127.0.0.1/test"
    assert s.port == 8080 and s.admins == ("U1", "U2")
    assert (s.sales_channel, s.marketing_channel, s.partnership_channel) == ("C01", "C02", "C03")
    assert str(s.tz) == "Europe/Berlin"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("HANDOFF_TIMEZONE", "Mars/Olympus"),
        ("HANDOFF_SALES_CHANNEL", "#sales"),
        ("DATABASE_URL", "mysql://x"),
        ("SLACK_API_URL", "ftp://x"),
        ("HANDOFF_SIGNAL_BATCH_SIZE", "25"),  # 2 blocks a signal: more would pass Slack's 50
        ("HANDOFF_SIGNAL_CARDS_PER_DAY", "-1"),
    ],
)
def test_wrong_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert message.startswith(variable + ":") and "\n" not in message


def test_secrets_never_in_repr_or_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-very-secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:db-very-secret@h/db")
    s = load_settings()
    assert "very-secret" not in repr(s) and "very-secret" not in str(s)
    monkeypatch.setenv("PORT", "xoxb-very-secret")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "very-secret" not in str(err.value)


def test_missing_credentials_are_named() -> None:
    assert load_settings().missing_slack_credentials() == ["SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"]
    assert load_settings(slack_app_token="xapp", slack_bot_token="xoxb").missing_slack_credentials() == []


@pytest.mark.parametrize(
    "weak",
    [
        "t0k3n",
        "test-intake-token",
        "a" * 40,
        "abababababababababababababababab12",
        "changeme-changeme-changeme-changeme",
    ],
)
def test_a_weak_intake_token_refuses_to_start(monkeypatch: pytest.MonkeyPatch, weak: str) -> None:
    monkeypatch.setenv("HANDOFF_INTAKE_TOKEN", weak)
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert message.startswith("HANDOFF_INTAKE_TOKEN:") and "\n" not in message and weak not in message


def test_a_strong_intake_token_starts_and_an_empty_one_disables_the_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HANDOFF_INTAKE_TOKEN", STRONG)
    assert load_settings().secret("intake_token") == STRONG
    monkeypatch.setenv("HANDOFF_INTAKE_TOKEN", "")
    assert load_settings().intake_token is None


def test_oauth_without_an_encryption_key_refuses_to_start_unless_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", "123.456")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "cs")
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert "HANDOFF_ENCRYPTION_KEY" in message and "HANDOFF_ALLOW_PLAINTEXT_TOKENS" in message
    assert "\n" not in message and not message.startswith("?")
    monkeypatch.setenv("HANDOFF_ALLOW_PLAINTEXT_TOKENS", "true")
    assert load_settings().oauth_enabled
    monkeypatch.delenv("HANDOFF_ALLOW_PLAINTEXT_TOKENS")
    from cryptography.fernet import Fernet

    monkeypatch.setenv("HANDOFF_ENCRYPTION_KEY", Fernet.generate_key().decode())
    assert load_settings().oauth_enabled
