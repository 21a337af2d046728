"""HubSpot, pure parts: the v3 request signature (X-HubSpot-Signature-v3) and the mapping of a
contact's properties to a lead. https://developers.hubspot.com/docs/api/webhooks/validating-requests"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from bot.domain import field_maps

MAX_AGE_MS = 5 * 60 * 1000  # HubSpot: reject requests whose timestamp is older than 5 minutes

# HubSpot contact property → lead field (HUBSPOT_FIELD_MAP adds to or replaces these)
DEFAULT_FIELD_MAP: dict[str, str] = {
    "email": "email",
    "firstname": "first_name",
    "lastname": "last_name",
    "company": "company",
    "jobtitle": "title",
    "phone": "phone",
    "hs_analytics_source": "source",
    "utm_campaign": "campaign",
    "hubspotscore": "score",
    "country": "region",
    "message": "notes",
}


def signature_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """base64(HMAC-SHA256(app secret, method + URI + body + timestamp)); HubSpot decodes a few
    URL-encoded characters of the URI first, which `unquote` covers."""
    signed = f"{method.upper()}{unquote(uri)}".encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()


def check_signature(
    secret: str,
    *,
    method: str,
    uri: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now_ms: int,
) -> str | None:
    """Why the request is refused, or None when it is HubSpot's."""
    if not timestamp or not signature:
        return "missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp"
    if not timestamp.isdigit() or abs(now_ms - int(timestamp)) > MAX_AGE_MS:
        return "timestamp is more than 5 minutes off"
    expected = signature_v3(secret, method, uri, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        return "bad signature"
    return None


def parse_field_map(text: str | None) -> dict[str, str]:
    """`hs_property=lead_field, …` on top of the defaults; `=` with nothing after drops one."""
    return field_maps.parse_field_map(text, defaults=DEFAULT_FIELD_MAP, setting="HUBSPOT_FIELD_MAP")


def _flat(properties: Mapping[str, Any]) -> dict[str, Any]:
    # the legacy contact format wraps each value: {"email": {"value": "…"}}
    return {k: (v.get("value") if isinstance(v, Mapping) else v) for k, v in properties.items()}


def lead_from_contact(payload: object, mapping: Mapping[str, str]) -> dict[str, Any]:
    """A workflow "Send a webhook" body (the contact's properties, flat or under "properties")
    as a lead for the intake; the record ID becomes `external_id` (hubspot:<id>), so a workflow
    that fires twice makes one lead."""
    if not isinstance(payload, Mapping):
        return {}
    props = _flat(payload["properties"]) if isinstance(payload.get("properties"), Mapping) else _flat(payload)
    lead: dict[str, Any] = {"source": "hubspot"}
    extra: dict[str, Any] = {}
    for prop, target in mapping.items():
        value = props.get(prop)
        if value is None or value == "":
            continue
        if target.startswith("fields."):
            extra[target[len("fields.") :]] = value
        else:
            lead[target] = value
    record = payload.get("objectId") or payload.get("vid") or props.get("hs_object_id")
    if record is not None and str(record).isdigit():
        lead["external_id"] = f"hubspot:{record}"
        extra["hubspot_id"] = str(record)
    if isinstance(lead.get("score"), str) and lead["score"].isdigit():
        lead["score"] = int(lead["score"])
    if extra:
        lead["fields"] = extra
    return lead
