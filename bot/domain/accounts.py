"""Customer accounts: the key a won lead's company is known by, and matching a lead to an account.
Pure: a routing rule may later call `match_account` with the same inputs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

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
    owner_id: str | None = None


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


@dataclass(frozen=True)
class AccountMatch:
    account: AccountRef
    matched_by: str  # for the why: "email domain acme.com", "company name “Acme GmbH”"


def typo_bound(name: str) -> int:
    """Edits allowed between two normalised company names: none for short names ("acme" is not
    "acne"), one (a letter added, missing, changed, or two neighbours swapped) from 6 letters."""
    return 0 if len(name.replace(" ", "")) < 6 else 1


def edit_distance(a: str, b: str, bound: int) -> int:
    """Optimal string alignment distance (a swap of two neighbours is one edit), or bound + 1 as
    soon as it is certain to exceed `bound`."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > bound:
            return bound + 1
        previous2, previous = previous, current
    return previous[-1]


def _domain_of(account: AccountRef, domain: str) -> bool:
    own = (account.domain or "").lower()
    return bool(own) and (domain == own or domain.endswith("." + own))


def _deletions(name: str) -> set[str]:
    return {name[:i] + name[i + 1 :] for i in range(len(name))}


class AccountIndex:
    """The accounts routing matches against, indexed once (per batch, or cached while they do not
    change): by domain, by normalised name, and by every one-letter deletion of a name, so a name
    within one edit is found without comparing it to every account (a symmetric-delete index)."""

    def __init__(self, accounts: Iterable[AccountRef]) -> None:
        self.by_domain: dict[str, AccountRef] = {}
        self.by_name: dict[str, AccountRef] = {}
        self.near: dict[str, set[int]] = {}
        self.accounts: dict[int, tuple[AccountRef, str]] = {}
        for account in accounts:
            if account.domain:
                self.by_domain.setdefault(account.domain.lower(), account)
            name = _normalised(account.company)
            if not name:
                continue
            self.by_name.setdefault(name, account)
            self.accounts[account.id] = (account, name)
            if typo_bound(name):
                for key in _deletions(name) | {name}:
                    self.near.setdefault(key, set()).add(account.id)

    def find(self, *, company: str | None, email: str | None, typos: bool = True) -> AccountMatch | None:
        domain = company_domain(email)
        if domain:
            parts = domain.split(".")
            for i in range(len(parts) - 1):  # eu.acme.com, then acme.com (never a bare "com")
                found = self.by_domain.get(".".join(parts[i:]))
                if found is not None:
                    return AccountMatch(found, f"email domain {domain}")
        name = _normalised(company)
        if not name:
            return None
        exact = self.by_name.get(name)
        if exact is not None:
            return AccountMatch(exact, f"company name “{company}”")
        if not typos or not typo_bound(name):
            return None
        ids: set[int] = set()
        for key in _deletions(name) | {name}:
            ids |= self.near.get(key, set())
        near = [self.accounts[i][0] for i in sorted(ids) if edit_distance(self.accounts[i][1], name, 1) <= 1]
        if len({a.id for a in near}) == 1:  # two near names: too close to call
            return AccountMatch(near[0], f"company name “{company}” (close to “{near[0].company}”)")
        return None


@lru_cache(maxsize=65536)
def _normalised(name: str | None) -> str:
    return normalise_company(name)


def find_match(
    accounts: Iterable[AccountRef], *, company: str | None, email: str | None, typos: bool = True
) -> AccountMatch | None:
    """Routing's match, explained: the company domain (or a subdomain of it: eu.acme.com is
    acme.com's), else the normalised company name ("ACME, Inc." is "Acme GmbH"), else — with
    `typos` — a name within one edit of exactly one account (names of 6 letters or more). Free
    mail never matches by domain; a lead naming no company matches nothing by name. Many leads
    against the same accounts: build an AccountIndex once."""
    return AccountIndex(accounts).find(company=company, email=email, typos=typos)
