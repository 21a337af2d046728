"""`POST /api/salesforce/leads`: a Salesforce Flow's HTTP callout (an External Service behind a
Named Credential) becomes a lead.

Authentication is a bearer token, because that is what a Flow can send: a Named Credential adds a
secret header to every callout, but a Flow cannot compute an HMAC over each body without Apex.
Accepted: a workspace token (`/handoff tokens create salesforce`, hashed at rest, revocable, acting
in its own workspace) or SALESFORCE_INBOUND_TOKEN (the single-workspace shortcut), compared in
constant time; an Apex caller may sign instead (X-Handoff-Signature with a 5-minute timestamp,
accepted once), as on the lead API. HANDOFF_INTAKE_TOKEN does not open this door. A replayed
bearer request cannot add anything: the Lead Id is the external ID, so it is a duplicate.

Gates, in order: 429 rate · 413 body over 1 MiB · 415 not application/json · 401 credentials ·
400 not JSON · 422 workspace; then 201 created, 200 duplicate, 422 with field errors (named by
the Salesforce field). `GET /api/salesforce/openapi.json` describes the operation (OpenAPI 3.0) for
registering it as an External Service."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot import __version__
from bot.domain import untrusted
from bot.domain.errors import Unauthenticated
from bot.domain.salesforce import parse_field_map
from bot.handlers.intake_api import IntakeApi, Refused, credentials_from, result_json
from bot.services.api_auth import ApiCaller, authenticate
from bot.services.salesforce_intake import receive_lead

if TYPE_CHECKING:
    from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

PATH = "/api/salesforce/leads"
OPENAPI_PATH = "/api/salesforce/openapi.json"  # for the External Service's registration


class SalesforceApi(IntakeApi):
    """The lead API's gates, with SALESFORCE_INBOUND_TOKEN as the shortcut token."""

    async def _check_credentials(self, request: web.Request, signed: bytes) -> ApiCaller:
        try:
            return await authenticate(
                self.handoff.uow,
                self.handoff.settings.secret("salesforce_inbound_token"),
                credentials_from(request.headers, signed),
                self.handoff.clock.now(),
            )
        except Unauthenticated as exc:
            log.info("Salesforce intake: refused credentials from %s", request.remote or "unknown")
            raise Refused(401, str(exc), **{"WWW-Authenticate": 'Bearer realm="handoff"'}) from None

    async def post_lead(self, request: web.Request) -> web.StreamResponse:
        try:
            caller, body = await self._read_json_body(request)
            try:
                payload = untrusted.loads(body)
            except (UnicodeDecodeError, ValueError):
                raise Refused(400, "the body is not JSON") from None
            team = await self._team(caller, None)
            async with self.handoff.open_context(team) as ctx:
                result, item = await receive_lead(ctx, payload)
        except Refused as refused:
            return refused.response
        out = result_json(result, item)
        return web.json_response(out, status={"created": 201, "duplicate": 200}.get(out["status"], 422))


def openapi_for_salesforce(field_map: str | None, version: str) -> dict[str, Any]:
    """An OpenAPI 3.0 description of this one operation, the form Salesforce's External Services
    register (they take 2.0 and 3.0, not 3.1): the Lead fields the mapping reads, as strings."""
    fields = sorted({"Id", *parse_field_map(field_map)})
    text = {"type": "string"}
    result = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["created", "duplicate", "invalid"]},
            "id": {"type": "integer"},
            "external_id": text,
            "errors": {"type": "object", "additionalProperties": text},
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Handoff: a Salesforce Lead to Slack", "version": version},
        "paths": {
            PATH: {
                "post": {
                    "operationId": "handOffLead",
                    "summary": "Hand a Lead to sales in Slack (deduped by the Lead Id)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["Id", "Email"],
                                    "properties": {name: dict(text) for name in fields},
                                }
                            }
                        },
                    },
                    "responses": {
                        code: {"description": why, "content": {"application/json": {"schema": result}}}
                        for code, why in (("201", "created"), ("200", "a duplicate"), ("422", "field errors"))
                    }
                    | {"401": {"description": "credentials refused"}},
                    "security": [{"bearerAuth": []}],
                }
            }
        },
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    }


def register(app: web.Application, handoff: Runtime) -> None:
    app.router.add_post(PATH, SalesforceApi(handoff).post_lead)

    async def openapi(request: web.Request) -> web.StreamResponse:
        return web.json_response(openapi_for_salesforce(handoff.settings.salesforce_field_map, __version__))

    app.router.add_get(OPENAPI_PATH, openapi)
