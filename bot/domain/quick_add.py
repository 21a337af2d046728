"""`/lead <text>`: turn one line a person typed into the fields of a lead (pure, no validation).

    /lead jane@acme.com Jane Doe, Acme, webinar
    /lead jane@acme.com Jane Doe, Acme, webinar, spring-launch score=80 region=emea "title=VP Sales"

The email can stand anywhere; the comma-separated words are name, company, source, campaign in that
order; `key=value` (quote values with spaces: title="VP Sales") sets any other field.
"""

from __future__ import annotations

import re

QUICK_KEYS = frozenset(
    {
        "name",
        "company",
        "title",
        "phone",
        "source",
        "campaign",
        "score",
        "region",
        "segment",
        "notes",
        "external_id",
    }
)
POSITIONAL = ("name", "company", "source", "campaign")

_MAILTO = re.compile(r"<mailto:([^|>]+)(?:\|[^>]*)?>")
_PAIR = re.compile(r"""(?<!\S)([a-z_]+)=(?:"([^"]*)"|(\S+))""", re.IGNORECASE)
_QUOTED_PAIR = re.compile(r"""(?<!\S)"([a-z_]+)=([^"]*)\"""", re.IGNORECASE)
# something that looks like an address; validation proper is LeadIn's job
_EMAIL = re.compile(r"(?<![^\s,])[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+(?=[\s,]|$)")


class QuickAddError(ValueError):
    """The text is not a quick add; the message says what was wrong."""


def unslack(text: str) -> str:
    """Undo what Slack does to command text: mailto links, smart quotes, &amp;/&lt;/&gt;."""
    text = _MAILTO.sub(lambda m: m.group(1), text)
    text = text.replace("“", '"').replace("”", '"')
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse_quick_add(text: str) -> dict[str, str]:
    """The lead's fields, or QuickAddError when there is no email or the line is ambiguous."""
    text = unslack(text).strip()
    fields: dict[str, str] = {}

    def take(key: str, value: str) -> str:
        key = key.lower()
        if key not in QUICK_KEYS:
            raise QuickAddError(f"unknown field `{key}` (known: {', '.join(sorted(QUICK_KEYS))})")
        fields[key] = value.strip()
        return " "

    text = _QUOTED_PAIR.sub(lambda m: take(m.group(1), m.group(2)), text)
    text = _PAIR.sub(lambda m: take(m.group(1), m.group(2) if m.group(2) is not None else m.group(3)), text)
    emails = _EMAIL.findall(text)
    if not emails:
        raise QuickAddError("no email address found")
    if len(emails) > 1:
        raise QuickAddError("more than one email address: add one lead at a time")
    email = emails[0]
    rest = _EMAIL.sub(" ", text, count=1)
    parts = [p.strip() for p in rest.split(",")]
    while parts and not parts[-1]:
        parts.pop()
    while parts and not parts[0]:
        parts.pop(0)
    if len(parts) > len(POSITIONAL):
        raise QuickAddError("too many comma-separated parts (name, company, source, campaign)")
    for key, value in zip(POSITIONAL, parts, strict=False):
        if value and key not in fields:
            fields[key] = " ".join(value.split())
    fields["email"] = email
    return fields
