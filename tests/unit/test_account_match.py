"""Lead-to-account matching for routing (bot.domain.accounts.find_match): domains and subdomains,
company names without legal forms, typos within a bound, free mail never."""

from __future__ import annotations

import pytest

from bot.domain.accounts import AccountRef, edit_distance, find_match, match_account, typo_bound

ACME = AccountRef(id=1, company="Acme Inc.", domain="acme.com", owner_id="U0ROB")
GLOBEX = AccountRef(id=2, company="Globex Corporation GmbH", domain=None, owner_id="U0RITA")
SIEMENS = AccountRef(id=3, company="Siemens AG", domain="siemens.de", owner_id="U0SAM")
INITECH = AccountRef(id=4, company="Initech", domain=None, owner_id="U0IVY")
SIMENS = AccountRef(id=5, company="Simens GmbH", domain=None, owner_id="U0X")  # near SIEMENS
ACCOUNTS = [ACME, GLOBEX, SIEMENS, INITECH]


@pytest.mark.parametrize(
    ("company", "email", "account", "by"),
    [
        (None, "jane@acme.com", ACME, "email domain acme.com"),
        (None, "jane@eu.acme.com", ACME, "email domain eu.acme.com"),  # a subdomain
        ("ACME, Inc", "jane@gmail.com", ACME, "company name"),  # free mail: by name only
        ("Acme GmbH", None, ACME, "company name"),  # another legal form, same company
        ("Globex Corp.", "x@globex.io", GLOBEX, "company name"),
        ("Glovex Corporation", "x@hotmail.com", GLOBEX, "close to"),  # one typo in a long name
        ("Siemans", None, SIEMENS, "close to"),  # "siemans" is one edit from "siemens"
    ],
)
def test_matches(company: str | None, email: str | None, account: AccountRef, by: str) -> None:
    found = find_match(ACCOUNTS, company=company, email=email)
    assert found is not None and found.account == account and by in found.matched_by


@pytest.mark.parametrize(
    ("company", "email"),
    [
        (None, "jane@gmail.com"),  # free mail never matches by domain
        ("Gmail", "jane@gmail.com"),
        (None, "jane@notacme.com"),  # a domain ending in acme.com is not a subdomain of it
        (None, "jane@acme.com.evil.io"),
        ("Initek", None),  # short names get no typo allowance ("acme" is not "acne")
        ("Acne", None),
        ("Globex Systems", None),  # another company of the same family name
        ("", None),
    ],
)
def test_does_not_match(company: str | None, email: str | None) -> None:
    assert find_match(ACCOUNTS, company=company, email=email) is None


def test_two_near_names_are_too_close_to_call_but_an_exact_one_wins() -> None:
    assert find_match([SIEMENS, SIMENS], company="Siemns", email=None) is None
    exact = find_match([SIMENS, SIEMENS], company="Siemens", email=None)
    assert exact is not None and exact.account == SIEMENS


def test_typos_can_be_turned_off_and_match_account_keeps_its_exact_behaviour() -> None:
    assert find_match(ACCOUNTS, company="Siemans", email=None, typos=False) is None
    assert match_account(ACCOUNTS, company="Siemans", email=None) is None
    assert match_account(ACCOUNTS, company="Acme", email=None) == ACME


def test_edit_distance_and_bound() -> None:
    assert edit_distance("siemens", "siemnes", 2) == 1  # a swap is one edit
    assert edit_distance("globex", "globex corp", 2) == 3  # beyond the bound: bound + 1
    assert (typo_bound("acme"), typo_bound("siemens"), typo_bound("globex corporation")) == (0, 1, 1)
