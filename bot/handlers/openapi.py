"""The lead API's OpenAPI 3.1 description, served at GET /api/openapi.json."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from bot import __version__
from bot.domain.lead_input import LeadIn

_TEXT = {"type": ["string", "null"]}
SCHEMA_REF = "#/components/schemas/{model}"


def model_schema(
    model: type[BaseModel], *, mode: JsonSchemaMode = "validation"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A pydantic model as OpenAPI 3.1 components: its JSON schema and the schemas of the models it
    refers to (pydantic's `$defs`), with every `$ref` pointing into #/components/schemas."""
    schema = model.model_json_schema(ref_template=SCHEMA_REF, mode=mode)
    return schema, schema.pop("$defs", {})


# what a client may send: generated from the model every door validates with, so the two cannot
# drift (limits, descriptions and all)
LEAD_IN, LEAD_IN_DEFS = model_schema(LeadIn)
# the same fields as a stored lead shows them (first_name/last_name are folded into name)
_LEAD_FIELDS = model_schema(LeadIn, mode="serialization")[0]["properties"]

RESULT: dict[str, Any] = {
    "type": "object",
    "required": ["index", "status"],
    "properties": {
        "index": {"type": "integer", "description": "Position in the request's leads array."},
        "status": {"enum": ["created", "duplicate", "invalid"]},
        "id": {"type": "integer", "description": "The lead's ID (created or existing duplicate)."},
        "email": {"type": "string"},
        "external_id": _TEXT,
        "channel_id": {"type": "string", "description": "The Slack channel the card went to."},
        "suggested_owner": {"type": "string", "description": "Round-robin rep (Slack user ID)."},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Field name → what is wrong (status invalid).",
        },
    },
}

ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}

EVENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "examples": ["created", "claimed", "accepted", "stage"]},
        "at": {"type": "string", "format": "date-time"},
        "actor_id": _TEXT,
        "origin": {"type": "string"},
        "data": {"type": "object"},
    },
}

LEAD_OUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        **_LEAD_FIELDS,
        "id": {"type": "integer"},
        "status": {
            "enum": [
                "new",
                "claimed",
                "accepted",
                "contacted",
                "meeting_booked",
                "opportunity",
                "won",
                "lost",
                "rejected",
                "returned",
            ]
        },
        "status_label": {"type": "string"},
        "owner_id": _TEXT,
        "suggested_owner": _TEXT,
        "channel_id": _TEXT,
        "message_ts": _TEXT,
        "rule": _TEXT,
        "route_reason": _TEXT,
        "routing": {
            "type": ["object", "null"],
            "description": "Why it went where it went (null for leads routed before decisions were stored).",
            "properties": {
                "method": {"enum": ["rule", "default", "account"]},
                "rule": {"type": ["object", "null"]},
                "matched_on": {"type": "array", "items": {"type": "string"}},
                "checked": {"type": "array", "items": {"type": "object"}},
                "checked_count": {"type": "integer"},
                "channel": _TEXT,
                "distribute": {"type": ["string", "null"], "enum": ["turn", "least_loaded", None]},
                "account": {"type": ["object", "null"]},
                "assignee": _TEXT,
                "candidates": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "user": {"type": "string"},
                            "outcome": {"enum": ["chosen", "skipped", "waiting"]},
                            "why": {"type": "string"},
                            "today": {"type": "integer"},
                            "week": {"type": "integer"},
                            "weight": {"type": "integer"},
                        },
                    },
                },
                "fallback": _TEXT,
            },
        },
        "nurture": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
        "claimed_at": {"type": ["string", "null"], "format": "date-time"},
        "feedback": {
            "type": "object",
            "properties": {
                "quality": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
                "reject_reason": _TEXT,
                "reject_reason_label": _TEXT,
                "reject_detail": _TEXT,
                "comment": _TEXT,
                "verdict_at": {"type": ["string", "null"], "format": "date-time"},
            },
        },
        "history": {"type": "array", "items": {"$ref": "#/components/schemas/LeadEvent"}},
    },
}


def _err(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_COMMON_ERRORS = {
    "401": _err("Missing or wrong credentials."),
    "429": {
        **_err("Too many requests from this client (HANDOFF_INTAKE_RATE_LIMIT per minute)."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
    },
}

_TEAM_PARAM = {
    "name": "team_id",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "Optional: the workspace the token acts in; any other is refused as unknown.",
}


def openapi_document(server_url: str = "/") -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Handoff lead API",
            "version": __version__,
            "description": (
                "Hand leads from marketing tools to sales in Slack. Authenticate with "
                "`Authorization: Bearer <token>`: a workspace token (`hnd_…`, made by an admin with "
                "`/handoff tokens create <name>` or `handoff tokens create <name>`), which acts in its "
                "own workspace only, or HANDOFF_INTAKE_TOKEN, the single-workspace shortcut. Or sign: "
                "`X-Handoff-Timestamp: <unix seconds>` (required, within 5 minutes) and "
                "`X-Handoff-Signature: sha256=<hex HMAC-SHA256(key, '<timestamp>.<signed>')>`, where "
                "signed is the raw body of a POST or the path and query of a GET, and key is the hex "
                "SHA-256 of a workspace token (send its first 12 characters as `X-Handoff-Key-Id`) or "
                "HANDOFF_INTAKE_TOKEN itself (no key ID). Each signature is accepted once. A team_id "
                "naming another workspace gets the same 422 as an unknown one. Checks run in this "
                "order: 429, 413, 415, 401, 400, 422."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}, {"signature": []}],
        "paths": {
            "/api/leads": {
                "post": {
                    "operationId": "submitLeads",
                    "summary": "Submit one lead, or up to 1,000 in a batch",
                    "parameters": [_TEAM_PARAM],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/LeadIn"},
                                        {
                                            "type": "object",
                                            "required": ["leads"],
                                            "properties": {
                                                "leads": {
                                                    "type": "array",
                                                    "minItems": 1,
                                                    "maxItems": 1000,
                                                    "items": {"$ref": "#/components/schemas/LeadIn"},
                                                },
                                                "team_id": {"type": "string"},
                                            },
                                        },
                                    ]
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Single lead: created.",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Result"}}
                            },
                        },
                        "200": {
                            "description": (
                                "Single lead: a duplicate of an existing lead (no second card). "
                                "Batch: one result per lead, in order, plus counts; each lead is "
                                "written whole or not at all and invalid ones do not stop the rest."
                            ),
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            {"$ref": "#/components/schemas/Result"},
                                            {
                                                "type": "object",
                                                "properties": {
                                                    "created": {"type": "integer"},
                                                    "duplicate": {"type": "integer"},
                                                    "invalid": {"type": "integer"},
                                                    "results": {
                                                        "type": "array",
                                                        "items": {"$ref": "#/components/schemas/Result"},
                                                    },
                                                },
                                            },
                                        ]
                                    }
                                }
                            },
                        },
                        "400": _err("Malformed JSON, or a body that is neither a lead nor {leads: [...]}."),
                        "413": _err("Body larger than 1 MiB."),
                        "415": _err("Content-Type is not application/json."),
                        "422": {
                            "description": (
                                "Single lead: invalid (a Result with errors). Batch: more than "
                                "1,000 leads, an empty batch, or an unknown team_id (an Error)."
                            ),
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            {"$ref": "#/components/schemas/Result"},
                                            {"$ref": "#/components/schemas/Error"},
                                        ]
                                    }
                                }
                            },
                        },
                        **_COMMON_ERRORS,
                    },
                }
            },
            "/api/leads/{lead_id}": {
                "get": {
                    "operationId": "getLead",
                    "summary": "A lead's status, owner, history and sales' feedback",
                    "parameters": [
                        {"name": "lead_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                        _TEAM_PARAM,
                    ],
                    "responses": {
                        "200": {
                            "description": "The lead.",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Lead"}}
                            },
                        },
                        "404": _err("No such lead in this workspace."),
                        **_COMMON_ERRORS,
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This description",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1 document."}},
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "signature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Handoff-Signature",
                    "description": (
                        "sha256=<hex HMAC-SHA256 of '<X-Handoff-Timestamp>.<body, or path and query of a "
                        "GET>'>, with X-Handoff-Timestamp and, for a workspace token, X-Handoff-Key-Id"
                    ),
                },
            },
            "schemas": {
                **LEAD_IN_DEFS,
                "LeadIn": LEAD_IN,
                "Result": RESULT,
                "Error": ERROR,
                "Lead": LEAD_OUT,
                "LeadEvent": EVENT,
            },
        },
    }
