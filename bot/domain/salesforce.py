"""Salesforce, pure parts: what a lead's state becomes on the Salesforce Lead (Status, Rating), the
verdict's Task, SOQL string literals, and the mapping of a Flow callout's Lead fields to a lead.

Status values are Salesforce's default Lead Status picklist (Setup → Object Manager → Lead →
Fields → Lead Status); an org with its own values maps them with SALESFORCE_STATUS_MAP. Handoff
never converts a Lead (conversion is not an sObject REST call): Won sets "Closed - Converted",
which an org's own conversion process (or a person) acts on."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.domain import field_maps
from bot.domain.errors import InvalidInput
from bot.domain.lead import Status

# lead status → Salesforce Lead.Status (default picklist). Released leads go back to Open.
DEFAULT_STATUS_MAP: dict[str, str] = {
    Status.NEW: "Open - Not Contacted",
    Status.CLAIMED: "Open - Not Contacted",
    Status.ACCEPTED: "Working - Contacted",
    Status.CONTACTED: "Working - Contacted",
    Status.MEETING_BOOKED: "Working - Contacted",
    Status.OPPORTUNITY: "Working - Contacted",
    Status.WON: "Closed - Converted",
    Status.LOST: "Closed - Not Converted",
    Status.REJECTED: "Closed - Not Converted",
    Status.RETURNED: "Closed - Not Converted",
}

# Salesforce Lead field → lead field (SALESFORCE_FIELD_MAP adds to or replaces these)
DEFAULT_FIELD_MAP: dict[str, str] = {
    "Email": "email",
    "FirstName": "first_name",
    "LastName": "last_name",
    "Company": "company",
    "Title": "title",
    "Phone": "phone",
    "LeadSource": "source",
    "Country": "region",
    "Industry": "segment",
    "Description": "notes",
}
# the Lead Id is the external_id, so a mapping may not fill it
LEAD_FIELDS = field_maps.LEAD_FIELDS - {"external_id"}
# a record ID: 15 case-sensitive or 18 case-insensitive alphanumeric characters
RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
LEAD_PREFIX = "00Q"  # every Lead's ID starts with its key prefix
TASK_MARK = re.compile(r"\[handoff\d+\]")
SUBJECT_MAX = 255  # Task.Subject is a 255-character field
COMPANY_UNKNOWN = "[not provided]"  # Lead.Company is required; Salesforce's own placeholder


def is_lead_id(value: object) -> bool:
    return isinstance(value, str) and value.startswith(LEAD_PREFIX) and RECORD_ID.fullmatch(value) is not None


def soql_string(value: str) -> str:
    """A SOQL string literal: quotes and backslashes escaped as the SOQL reference lists, so a
    lead's email can never end the literal and add a condition."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f"'{escaped}'"


def soql_like(value: str) -> str:
    """A SOQL LIKE pattern matching `value` anywhere; its own % and _ are literal."""
    inner = soql_string(value)[1:-1].replace("%", "\\%").replace("_", "\\_")
    return f"'%{inner}%'"


def parse_status_map(text: str | None) -> dict[str, str]:
    """`handoff_status=Salesforce value, …` on top of the defaults."""
    mapping = dict(DEFAULT_STATUS_MAP)
    for part in (text or "").split(","):
        if not part.strip():
            continue
        status, sep, value = part.partition("=")
        status, value = status.strip(), value.strip()
        if not sep or not value:
            raise ValueError(f"SALESFORCE_STATUS_MAP: {part.strip()!r} is not status=Salesforce value")
        if status not in {s.value for s in Status}:
            raise ValueError(f"SALESFORCE_STATUS_MAP: {status!r} is not a Handoff lead status")
        mapping[status] = value
    return mapping


def rating(quality: int | None) -> str | None:
    """Sales' 1–5 quality as Lead.Rating (Hot/Warm/Cold); None leaves the Rating alone."""
    if quality is None:
        return None
    return "Hot" if quality >= 4 else "Warm" if quality == 3 else "Cold"


def lead_update(status: str, quality: int | None, status_map: Mapping[str, str]) -> dict[str, str]:
    """The Lead fields a sync writes (OwnerId is added by the delivery once it knows the User)."""
    fields = {"Status": status_map.get(status, DEFAULT_STATUS_MAP.get(status, "Open - Not Contacted"))}
    stars = rating(quality)
    if stars is not None:
        fields["Rating"] = stars
    return fields


def new_lead(email: str, name: str | None, company: str | None, title: str | None) -> dict[str, str]:
    """A Lead for a lead Salesforce does not know yet (LastName and Company are required)."""
    first, _, last = (name or "").strip().rpartition(" ")
    if not last:
        last = email.partition("@")[0]
    lead = {"Email": email, "LastName": last[:80], "Company": (company or COMPANY_UNKNOWN)[:255]}
    if first:
        lead["FirstName"] = first[:40]
    if title:
        lead["Title"] = title[:128]
    lead["LeadSource"] = "Handoff"
    return lead


def task_subject(summary: str, mark: str) -> str:
    """The Task's Subject: the verdict in short, then our mark, which a retry searches for (Subject
    is filterable in SOQL; Description is not)."""
    tail = f" [{mark}]"
    return summary[: SUBJECT_MAX - len(tail)] + tail


def parse_field_map(text: str | None) -> dict[str, str]:
    """`SalesforceField=lead_field, …` on top of the defaults; `=` with nothing after drops one."""
    return field_maps.parse_field_map(
        text, defaults=DEFAULT_FIELD_MAP, setting="SALESFORCE_FIELD_MAP", allowed=LEAD_FIELDS
    )


def lead_from_record(payload: object, mapping: Mapping[str, str]) -> dict[str, Any]:
    """A Flow HTTP callout's body (the Lead's fields, flat or under "lead") as a lead for the
    intake. The Lead's Id becomes `external_id` (salesforce:<Id>), so a Flow that fires twice makes
    one lead. Raises InvalidInput without a valid Lead Id; other fields are validated by the intake."""
    if not isinstance(payload, Mapping):
        raise InvalidInput({"lead": "must be a JSON object of the Lead's fields"})
    record = payload["lead"] if isinstance(payload.get("lead"), Mapping) else payload
    lead: dict[str, Any] = {"source": "salesforce"}
    extra: dict[str, Any] = {}
    for field, target in mapping.items():
        value = record.get(field)
        if value is None or value == "":
            continue
        if target.startswith("fields."):
            extra[target[len("fields.") :]] = value
        else:
            lead[target] = value
    record_id = record.get("Id")
    if not is_lead_id(record_id):
        raise InvalidInput({"Id": "required: the Lead's record ID (15 or 18 characters, starting 00Q)"})
    lead["external_id"] = f"salesforce:{record_id}"
    extra["salesforce_id"] = record_id
    if extra:
        lead["fields"] = extra
    return lead
