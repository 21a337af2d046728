"""bot.domain.salesforce: SOQL literals that cannot be broken out of, the status and field maps,
a Flow callout's body as a lead."""

from __future__ import annotations

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.lead import Status
from bot.domain.salesforce import (
    DEFAULT_STATUS_MAP,
    is_lead_id,
    lead_from_record,
    lead_update,
    new_lead,
    parse_field_map,
    parse_status_map,
    rating,
    soql_like,
    soql_string,
    task_subject,
)
from bot.sandbox.fake_crm.salesforce import _CONDITION, _like, _unescape


@pytest.mark.parametrize(
    "value",
    [
        "jane@acme.com",
        "o'brien@acme.com",
        "x' OR Email != '",
        "back\\slash@x.io",
        "a\\' OR Id != '@x",
        "new\nline",
    ],
)
def test_a_soql_string_literal_holds_whatever_it_is_given(value: str) -> None:
    literal = soql_string(value)
    match = _CONDITION.fullmatch(f"Email = {literal}")
    assert match is not None and match.group("text") is not None  # one literal, nothing after it
    assert _unescape(match.group("text")) == value


def test_a_like_pattern_matches_the_mark_literally() -> None:
    pattern = soql_like("[handoff_12]")[1:-1]
    assert _like(pattern, "Handoff: accepted [handoff_12]")
    assert not _like(pattern, "Handoff: accepted [handoffX12]")  # _ is not a wildcard here
    assert not _like(soql_like("[handoff1]")[1:-1], "[handoff12]")


def test_status_map_defaults_and_overrides() -> None:
    assert DEFAULT_STATUS_MAP[Status.WON] == "Closed - Converted"
    assert DEFAULT_STATUS_MAP[Status.REJECTED] == "Closed - Not Converted"
    custom = parse_status_map("won=Closed Won, meeting_booked = Meeting Set")
    assert custom[Status.WON] == "Closed Won" and custom[Status.MEETING_BOOKED] == "Meeting Set"
    for bad in ("won", "nonsense=Open", "won="):
        with pytest.raises(ValueError):
            parse_status_map(bad)


def test_rating_and_the_update() -> None:
    assert [rating(q) for q in (None, 1, 2, 3, 4, 5)] == [None, "Cold", "Cold", "Warm", "Hot", "Hot"]
    assert lead_update(Status.ACCEPTED, 5, DEFAULT_STATUS_MAP) == {
        "Status": "Working - Contacted",
        "Rating": "Hot",
    }
    assert lead_update(Status.CLAIMED, None, DEFAULT_STATUS_MAP) == {"Status": "Open - Not Contacted"}


def test_a_new_lead_has_the_required_fields() -> None:
    assert new_lead("jo@x.io", None, None, None) == {
        "Email": "jo@x.io", "LastName": "jo", "Company": "[not provided]", "LeadSource": "Handoff"
    }  # fmt: skip
    made = new_lead("j@x.io", "Jane van Doe", "Acme", "CTO")
    assert (made["FirstName"], made["LastName"], made["Company"], made["Title"]) == (
        "Jane van",
        "Doe",
        "Acme",
        "CTO",
    )


def test_the_task_subject_keeps_its_mark_within_255() -> None:
    subject = task_subject("x" * 400, "handoff123")
    assert len(subject) == 255 and subject.endswith(" [handoff123]")


def test_lead_ids() -> None:
    assert is_lead_id("00Q5e00000AbCdE") and is_lead_id("00Q5e00000AbCdEFGH")
    assert not is_lead_id("0015e00000AbCdEFGH") and not is_lead_id("00Q5e0000") and not is_lead_id(42)
    assert not is_lead_id("00Q5e00000AbCdE'--")


def test_field_map() -> None:
    mapping = parse_field_map("Rating=fields.rating, Industry=, Lead_Score__c=score")
    assert (
        mapping["Rating"] == "fields.rating"
        and "Industry" not in mapping
        and mapping["Lead_Score__c"] == "score"
    )
    for bad in ("Email", "=email", "Email=owner_id"):
        with pytest.raises(ValueError):
            parse_field_map(bad)


def test_a_flow_body_flat_or_wrapped() -> None:
    record = {"Id": "00Q5e00000AbCdEFGH", "Email": "j@x.io", "LastName": "Doe", "Rating": "Hot"}
    mapping = parse_field_map("Rating=fields.rating")
    flat, wrapped = lead_from_record(record, mapping), lead_from_record({"lead": record}, mapping)
    assert flat == wrapped == {
        "source": "salesforce", "email": "j@x.io", "last_name": "Doe",
        "external_id": "salesforce:00Q5e00000AbCdEFGH",
        "fields": {"rating": "Hot", "salesforce_id": "00Q5e00000AbCdEFGH"},
    }  # fmt: skip
    for bad in ([record], "x", {**record, "Id": None}, {**record, "Id": "bad"}):
        with pytest.raises(InvalidInput):
            lead_from_record(bad, mapping)
