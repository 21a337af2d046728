"""Pure parts of after the close: account keys and matching, follow-up times, insight tags."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.accounts import AccountRef, account_key, match_account, normalise_company
from bot.domain.followups import parse_target, parse_user_ref, parse_when
from bot.domain.sla import BusinessCalendar

CAL = BusinessCalendar.from_text(timezone="Europe/Berlin", hours="09:00-17:00", days="mon-fri", holidays="")
MONDAY = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 16:00 in Berlin


def test_account_keys_never_use_free_mail() -> None:
    assert account_key(company="Acme, Inc.", email="jane@Acme.com") == "domain:acme.com"
    assert account_key(company="Acme, Inc.", email="jane@gmail.com") == "name:acme"
    assert account_key(company=None, email="jane@gmail.com") is None
    assert normalise_company("Société Générale SA") == "societe generale"


def test_match_prefers_the_domain_then_the_name() -> None:
    accounts = [AccountRef(1, "Acme", None), AccountRef(2, "Other", "acme.com")]
    assert match_account(accounts, company="ACME GmbH", email="x@acme.com") == accounts[1]
    assert match_account(accounts, company="ACME GmbH", email="x@gmail.com") == accounts[0]
    assert match_account(accounts, company="Globex", email="x@gmail.com") is None


def test_follow_up_times_land_in_working_hours() -> None:
    in_3 = parse_when("in 3 days call back", now=MONDAY, calendar=CAL)
    assert (
        in_3 is not None
        and in_3.due_at == datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
        and in_3.rest == "call back"
    )
    monday = parse_when("next monday", now=MONDAY, calendar=CAL)
    assert monday is not None and monday.due_at == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    late = parse_when("in 2 hours", now=MONDAY, calendar=CAL)  # 18:00 Berlin: closed → Tuesday 09:00
    assert late is not None and late.due_at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    assert parse_when("2026-03-01", now=MONDAY, calendar=CAL) is None  # the past
    assert parse_when("2026-02-30", now=MONDAY, calendar=CAL) is None
    assert parse_when("soon", now=MONDAY, calendar=CAL) is None


def test_targets_and_user_refs() -> None:
    assert parse_target("lead:12") == ("lead", 12)
    assert parse_target("lead:x") is None and parse_target("other:1") is None
    assert parse_user_ref("<@U0REP2|rita>") == "U0REP2" and parse_user_ref("@rita") is None
