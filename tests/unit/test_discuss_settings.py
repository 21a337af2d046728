"""The discussion settings: documented names, lists split on commas, one clear line when wrong."""

from __future__ import annotations

from datetime import date

import pytest

from bot.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith(("SLACK_", "HANDOFF_")) or key in ("DATABASE_URL", "PORT"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_weekly_with_a_four_day_window() -> None:
    s = load_settings()
    assert s.discuss_cron == "mon 10:00" and s.discuss_window_days == 4 and s.holidays == ()
    assert s.sales_users == () and s.sales_usergroup is None


def test_reads_the_documented_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "HANDOFF_DISCUSS_CRON": "weekdays 9:30",
        "HANDOFF_DISCUSS_WINDOW_DAYS": "2",
        "HANDOFF_HOLIDAYS": "2026-12-25, 2026-12-26",
        "HANDOFF_SALES_USERGROUP": "S01",
        "HANDOFF_MARKETING_USERGROUP": "S02",
        "HANDOFF_SALES_USERS": "U1,U2",
        "HANDOFF_MARKETING_USERS": "U3",
        "HANDOFF_DISCUSS_MIN_ACCEPTANCE": "0.4",
        "HANDOFF_DISCUSS_MIN_SAMPLE": "8",
        "HANDOFF_DISCUSS_REASON_SHARE": "0.6",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    s = load_settings()
    assert s.discuss_cron == "weekdays 9:30" and s.discuss_window_days == 2
    assert s.holidays == (date(2026, 12, 25), date(2026, 12, 26))
    assert (s.sales_usergroup, s.marketing_usergroup) == ("S01", "S02")
    assert s.sales_users == ("U1", "U2") and s.marketing_users == ("U3",)
    assert (s.discuss_min_acceptance, s.discuss_min_sample, s.discuss_reason_share) == (0.4, 8, 0.6)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HANDOFF_DISCUSS_CRON", "every monday"),
        ("HANDOFF_HOLIDAYS", "christmas"),
        ("HANDOFF_SALES_USERGROUP", "U123"),
        ("HANDOFF_DISCUSS_WINDOW_DAYS", "0"),
        ("HANDOFF_DISCUSS_MIN_ACCEPTANCE", "2"),
    ],
)
def test_a_wrong_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert str(exc.value).startswith(f"{variable}:")
