"""A CRM's fields mapped onto a lead's: `CrmField=lead_field, …` from configuration, on top of each
CRM's defaults (HubSpot and Salesforce share the syntax and the rules)."""

from __future__ import annotations

from collections.abc import Mapping

# what a CRM field may fill (`fields.<name>` adds a custom field)
LEAD_FIELDS = frozenset(
    {"email", "name", "first_name", "last_name", "company", "title", "phone", "source", "campaign",
     "score", "region", "segment", "notes", "external_id"}
)  # fmt: skip


def parse_field_map(
    text: str | None,
    *,
    defaults: Mapping[str, str],
    setting: str,
    allowed: frozenset[str] = LEAD_FIELDS,
) -> dict[str, str]:
    """`text` on top of `defaults`; `Field=` with nothing after drops a default. ValueError names
    the setting and the bad part."""
    mapping = dict(defaults)
    for part in (text or "").split(","):
        if not part.strip():
            continue
        source, sep, target = part.partition("=")
        source, target = source.strip(), target.strip()
        if not sep or not source:
            raise ValueError(f"{setting}: {part.strip()!r} is not Field=lead_field")
        if not target:
            mapping.pop(source, None)
            continue
        if target not in allowed and not target.startswith("fields."):
            raise ValueError(f"{setting}: {target!r} is not a lead field (or fields.<name>)")
        mapping[source] = target
    return mapping
