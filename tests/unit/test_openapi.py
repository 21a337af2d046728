"""The lead API's OpenAPI schema is generated from LeadIn: the same fields, and valid JSON Schema."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from bot.domain.lead_input import LIMITS, LeadIn, parse_lead
from bot.handlers.openapi import openapi_document


def _schemas() -> dict[str, Any]:
    return openapi_document()["components"]["schemas"]


def test_every_field_leadin_accepts_is_in_the_schema_and_nothing_else() -> None:
    published = _schemas()["LeadIn"]
    assert set(published["properties"]) == set(LeadIn.model_fields)
    assert published["required"] == ["email"]


def test_the_published_limits_are_the_ones_intake_enforces() -> None:
    properties = _schemas()["LeadIn"]["properties"]

    def max_length(prop: dict[str, Any]) -> int:
        return next(s["maxLength"] for s in [prop, *prop.get("anyOf", [])] if "maxLength" in s)

    assert {name: max_length(properties[name]) for name in LIMITS} == LIMITS
    for name, limit in LIMITS.items():
        if name != "email":
            assert parse_lead({"email": "a@x.io", name: "x" * limit})
    assert properties["email"]["format"] == "email"


def test_the_lead_schema_is_valid_and_agrees_with_the_model_on_a_lead() -> None:
    schemas = _schemas()
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)
    lead = {"email": "ann@example.com", "name": "Ann", "score": 80, "fields": {"plan": "pro"}}
    Draft202012Validator(schemas["LeadIn"]).validate(lead)
    assert parse_lead(lead).score == 80
    too_high = {**lead, "score": 101}
    assert not Draft202012Validator(schemas["LeadIn"]).is_valid(too_high)


def test_the_stored_lead_shows_the_input_fields_but_not_the_name_parts() -> None:
    shown = set(_schemas()["Lead"]["properties"])
    assert set(LeadIn.model_fields) - {"first_name", "last_name"} <= shown
    assert not {"first_name", "last_name"} & shown
