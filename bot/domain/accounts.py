"""Customer accounts: the key a won lead's company is known by, and matching a lead to an account.
Pure: a routing rule may later call `match_account` with the same inputs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# a free-mail address says nothing about the company: its domain never makes an account key
FREE_MAIL = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "hotmail.com", "outlook.com",
        "live.com", "msn.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me",
        "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "yandex.com",
        "yandex.ru", "zoho.com", "fastmail.com", "hey.com", "qq.com", "163.com", "orange.fr",
        "free.fr", "laposte.net", "libero.it", "t-online.de",
    }
)  # fmt: skip

# legal forms that do not tell two companies apart ("Acme Inc." is "ACME")
_LEGAL = frozenset(
    {"inc", "incorporated", "llc", "ltd", "limited", "gmbh", "ag", "sa", "sas", "srl", "bv", "nv",
     "plc", "co", "corp", "corporation", "company", "oy", "ab", "as", "spa", "pty", "kg"}
)  # fmt: skip


def normalise_company(name: str | None) -> str:
    """'Acme, Inc.' → 'acme'; 'Société Générale SA' → 'societe generale'; '' when nothing is left."""
    if not name:
        return ""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    plain = plain.replace("&", " and ")
    words = [w for w in re.split(r"[^a-z0-9]+", plain) if w]
    while words and words[-1] in _LEGAL:
        words.pop()
    return " ".join(words)


def company_domain(email: str | None) -> str | None:
    """The email's domain when it names a company (never a free-mail one)."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    if not domain or domain in FREE_MAIL:
        return None
    return domain


def account_key(*, company: str | None, email: str | None) -> str | None:
    """What an account is known by: its company domain, else its normalised name; None when the
    lead names neither (a free-mail address and no company)."""
    domain = company_domain(email)
    if domain:
        return f"domain:{domain}"
    name = normalise_company(company)
    return f"name:{name}" if name else None


@dataclass(frozen=True)
class AccountRef:
    """What matching needs of an account."""

    id: int
    company: str | None
    domain: str | None


def match_account(
    accounts: Iterable[AccountRef], *, company: str | None, email: str | None
) -> AccountRef | None:
    """The account a lead or signal belongs to: same company domain first, else the same
    normalised company name."""
    domain = company_domain(email)
    name = normalise_company(company)
    by_name = None
    for account in accounts:
        if domain and account.domain == domain:
            return account
        if name and by_name is None and normalise_company(account.company) == name:
            by_name = account
    return by_name
