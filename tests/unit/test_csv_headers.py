"""CSV header mapping: HubSpot, Salesforce and our own field names."""

from __future__ import annotations

from bot.domain.csv_headers import map_headers, row_to_lead
from bot.domain.lead_input import parse_lead

HUBSPOT = [
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Company Name",
    "Job Title",
    "Phone Number",
    "Original Source",
    "Lead Status",
    "HubSpot Score",
]
SALESFORCE = [
    "Id",
    "FirstName",
    "LastName",
    "Company",
    "Title",
    "Phone",
    "Email",
    "LeadSource",
    "Rating",
    "Description",
]
OURS = [
    "email",
    "external_id",
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
    "fields",
    "status",
    "owner_id",
]


def test_hubspot_headers() -> None:
    m = map_headers(HUBSPOT)
    assert (
        m["Record ID"] == "external_id" and m["First Name"] == "first_name" and m["Last Name"] == "last_name"
    )
    assert m["Company Name"] == "company" and m["Job Title"] == "title" and m["Phone Number"] == "phone"
    assert m["Original Source"] == "source" and m["HubSpot Score"] == "score"
    assert m["Lead Status"] is None  # kept in fields
    row = dict(
        zip(
            HUBSPOT,
            ["51", "Jane", "Doe", "JANE@Acme.com", "Acme", "CTO", "+1 555", "ORGANIC_SEARCH", "NEW", "72"],
            strict=True,
        )
    )
    lead = parse_lead(row_to_lead(row, m))
    assert (lead.email, lead.name, lead.external_id, lead.source, lead.score) == (
        "jane@acme.com",
        "Jane Doe",
        "51",
        "organic_search",
        72,
    )
    assert lead.fields == {"Lead Status": "NEW"}


def test_salesforce_headers() -> None:
    m = map_headers(SALESFORCE)
    assert [m[h] for h in SALESFORCE] == [
        "external_id",
        "first_name",
        "last_name",
        "company",
        "title",
        "phone",
        "email",
        "source",
        None,
        "notes",
    ]


def test_our_own_names_round_trip_and_state_columns_are_ignored() -> None:
    m = map_headers(OURS)
    row = {h: "" for h in OURS} | {
        "email": "a@b.co",
        "name": "A",
        "score": "5",
        "fields": '{"utm": "x", "n": 1}',
        "status": "claimed",
        "owner_id": "U1",
    }
    lead = row_to_lead(row, m)
    assert lead == {"email": "a@b.co", "name": "A", "score": "5", "fields": {"utm": "x", "n": 1}}


def test_first_column_wins_and_duplicates_go_to_fields() -> None:
    m = map_headers(["Email", "Work Email", "E-mail"])
    assert m == {"Email": "email", "Work Email": None, "E-mail": None}
