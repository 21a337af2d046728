"""CSV columns → lead fields: HubSpot's and Salesforce's export headers, and our own field names.

Headers are compared without case, spaces or punctuation ("First Name" = "first_name" = "FirstName").
Columns we do not know are kept in the lead's free `fields`, under their original header; a `fields`
column holding a JSON object (our own export) is merged into them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "email address", "e-mail", "work email", "business email"),
    "external_id": ("external_id", "record id", "lead id", "contact id", "id", "externalid"),
    "name": ("name", "full name", "fullname", "contact name", "lead name"),
    "first_name": ("first name", "firstname", "given name"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "company": ("company", "company name", "account name", "organization", "organisation"),
    "title": ("title", "job title", "jobtitle", "position", "role"),
    "phone": ("phone", "phone number", "mobile phone number", "mobilephone", "mobile", "work phone"),
    "source": (
        "source",
        "original source",
        "lead source",
        "leadsource",
        "latest source",
        "hs_analytics_source",
    ),
    "campaign": ("campaign", "campaign name", "utm campaign", "utm_campaign", "first campaign"),
    "score": ("score", "hubspot score", "lead score", "hubspotscore", "scoring"),
    "region": ("region", "sales region", "territory", "geo"),
    "segment": ("segment", "market segment", "customer segment", "tier"),
    "notes": ("notes", "notes for sales", "description", "message", "comments"),
    "fields": ("fields",),
}

# What our own exports (and the lead API) write that describes what Handoff did with a lead, not
# the lead itself: never re-imported, not even as free fields. `handoff export leads` writes only
# these besides the lead's own fields (tests/integration/test_export_import.py checks that).
STATE_COLUMNS = frozenset(
    {
        "handoff_id",
        "team_id",
        "dedupe_key",
        "submitted_by",
        "intake_channel",
        "status",
        "status_label",
        "owner_id",
        "suggested_owner",
        "assignee_id",
        "rule",
        "rule_id",
        "route_reason",
        "routing",
        "channel_id",
        "message_ts",
        "quality",
        "verdict_comment",
        "reject_reason",
        "reject_reason_label",
        "reject_detail",
        "nurture",
        "won_amount",
        "currency",
        "lost_reason",
        "created_at",
        "updated_at",
        "claimed_at",
        "verdict_at",
        "accepted_at",
        "rejected_at",
        "contacted_at",
        "meeting_at",
        "opportunity_at",
        "won_at",
        "lost_at",
        "stage_changed_at",
    }
)


def normalise(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


_LOOKUP = {normalise(alias): field for field, aliases in _ALIASES.items() for alias in aliases}
_STATE = {normalise(c) for c in STATE_COLUMNS}
_HANDOFF_ID = normalise("handoff_id")  # every Handoff export has it; nobody else's does


def written_by_handoff(headers: list[str]) -> bool:
    """A Handoff export (its cells were neutralised for spreadsheets: spreadsheet_cells.restore)."""
    return _HANDOFF_ID in {normalise(h) for h in headers}


def map_headers(headers: list[str]) -> dict[str, str | None]:
    """{header: lead field, or None for columns kept in `fields`}; the first column wins a field."""
    mapping: dict[str, str | None] = {}
    taken: set[str] = set()
    for header in headers:
        key = normalise(header)
        field = _LOOKUP.get(key)
        if key in _STATE:
            mapping[header] = "-"  # ignored
        elif field is not None and field not in taken:
            mapping[header] = field
            taken.add(field)
        else:
            mapping[header] = None
    return mapping


def row_to_lead(row: Mapping[str, Any], mapping: dict[str, str | None]) -> dict[str, Any]:
    """One CSV row as LeadIn input; empty cells are absent, unknown columns go to `fields`."""
    lead: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for header, raw in row.items():
        if header is None:  # more cells than headers
            continue
        value = raw.strip() if isinstance(raw, str) else raw
        if value in (None, ""):
            continue
        field = mapping.get(header)
        if field == "-":
            continue
        if field == "fields":
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                extra.update(parsed)
            else:
                extra[header] = value
        elif field is None:
            extra[header] = value
        else:
            lead[field] = value
    if extra:
        lead["fields"] = extra
    return lead
