"""The lead intake HTTP API: POST /api/leads, GET /api/leads/{id}, GET /api/openapi.json.

Authentication (bot.services.api_auth), either:
  * `Authorization: Bearer <token>`: a workspace token (`hnd_…`, made with `handoff tokens create`
    or `/handoff tokens create`), or HANDOFF_INTAKE_TOKEN, the single-workspace shortcut;
  * `X-Handoff-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<signed>">` with
    `X-Handoff-Timestamp: <unix seconds>` (within 5 minutes) and, for a workspace token,
    `X-Handoff-Key-Id: <the token's first 12 characters>`; the key is the workspace token's SHA-256
    (hex) or HANDOFF_INTAKE_TOKEN itself; `signed` is the raw body of a POST, the path and query of
    a GET. A signature is accepted once.
A workspace token acts in its own workspace only: a `team_id` naming any other is answered as an
unknown one. The order of checks is fixed and documented in the OpenAPI description: rate limit
(429) → size (413) → content type (415) → credentials (401) → JSON (400) → batch size (422) →
workspace (422) → per-lead validation (results).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.domain import untrusted
from bot.domain.api_tokens import MAX_SIGNATURE_AGE, sign
from bot.domain.errors import InvalidInput, Unauthenticated
from bot.domain.lead_input import LeadIn, parse_lead
from bot.handlers.openapi import openapi_document
from bot.handlers.rate_limit import RateLimiter
from bot.handlers.signals import is_signal_item, post_signal, receive_signal_items, signal_body
from bot.observability import metrics
from bot.services.api_auth import ApiCaller, ApiCredentials, authenticate
from bot.services.intake import ItemResult, submit_many
from bot.services.lead_info import lead_json

if TYPE_CHECKING:
    from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

__all__ = ["MAX_SIGNATURE_AGE", "IntakeApi", "register", "sign"]

MAX_BODY = 1024 * 1024
MAX_LEADS = 1000
SIGNATURE_HEADER = "X-Handoff-Signature"
TIMESTAMP_HEADER = "X-Handoff-Timestamp"
KEY_ID_HEADER = "X-Handoff-Key-Id"
# unknown and other workspaces' team IDs get this same answer: it tells nobody which exist
UNKNOWN_TEAM = "unknown team_id: Handoff is not installed in that workspace"
NO_SINGLE_WORKSPACE = (
    "HANDOFF_INTAKE_TOKEN speaks for a single workspace, and Handoff has none or several installed: "
    "use a workspace token (handoff tokens create, or /handoff tokens create in Slack)"
)


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


# ---------------------------------------------------------------------------------- authentication


def credentials_from(headers: Mapping[str, str], signed: bytes) -> ApiCredentials:
    """What the request offers; an Authorization header that is not a bearer token is refused."""
    authorization = headers.get("Authorization", "")
    if authorization:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise Unauthenticated("invalid credentials")
        return ApiCredentials(bearer=given.strip())
    signature = headers.get(SIGNATURE_HEADER, "")
    if signature:
        return ApiCredentials(
            signature=signature,
            timestamp=headers.get(TIMESTAMP_HEADER),
            key_id=headers.get(KEY_ID_HEADER),
            signed=signed,
        )
    return ApiCredentials()


# ---------------------------------------------------------------------------------- shapes


def result_json(result: ItemResult, item: LeadIn | InvalidInput | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"index": result.index, "status": result.status}
    if result.lead is not None:
        lead = result.lead
        out.update(id=lead.id, email=lead.email, external_id=lead.external_id, channel_id=lead.channel_id)
        if lead.assignee_id:
            out["suggested_owner"] = lead.assignee_id
    elif isinstance(item, LeadIn):
        out.update(email=item.email, external_id=item.external_id)
    if result.errors:
        out["errors"] = result.errors
    return out


def _client_key(request: web.Request) -> str:
    return request.remote or "unknown"


class Refused(Exception):
    """A request turned away at one of the gates, with the answer to send."""

    def __init__(self, status: int, message: str, **headers: str) -> None:
        super().__init__(message)
        self.response = _error(status, message)
        self.response.headers.update(headers)


@dataclass(frozen=True)
class LeadRequest:
    """POST /api/leads parsed: one lead or a batch, each validated or the reason it is not."""

    items: list[LeadIn | InvalidInput]
    batch: bool
    team_id: object = None  # a batch may name its workspace in the body
    # a batch's customer signals (`"kind": "signal"` items): index → what they did
    signals: dict[int, object] = field(default_factory=dict)


def parse_lead_request(body: bytes) -> LeadRequest:
    """The JSON body as leads; Refused (400, 422) when it is not one lead or a batch of them."""
    try:
        data = untrusted.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(400, f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Refused(400, 'the body must be a lead object or {"leads": [...]}')
    if "leads" not in data:
        return LeadRequest(items=[_parse_one(data)], batch=False)
    raw_leads = data["leads"]
    if not isinstance(raw_leads, list):
        raise Refused(400, '"leads" must be an array of lead objects')
    if len(raw_leads) > MAX_LEADS:
        raise Refused(422, f"at most {MAX_LEADS} leads per request; this one has {len(raw_leads)}")
    if not raw_leads:
        raise Refused(422, '"leads" is empty')
    signals = {i: raw.get("activity") for i, raw in enumerate(raw_leads) if is_signal_item(raw)}
    return LeadRequest(
        items=[_parse_one(raw) for raw in raw_leads], batch=True, team_id=data.get("team_id"), signals=signals
    )


def _parse_one(raw: object) -> LeadIn | InvalidInput:
    try:
        return parse_lead(raw)
    except InvalidInput as exc:
        return exc


def leads_response(
    parsed: LeadRequest, results: list[ItemResult], signal_results: dict[int, dict[str, Any]] | None = None
) -> web.Response:
    """One lead: its result (201 created, 200 duplicate, 422 invalid). A batch: counts + results,
    the leads' and the signals' in the batch's order (`results` are the leads', in order)."""
    leads = iter(
        zip(results, [i for n, i in enumerate(parsed.items) if n not in parsed.signals], strict=True)
    )
    out: list[dict[str, Any]] = []
    for index in range(len(parsed.items)):
        if signal_results and index in signal_results:
            out.append(signal_results[index])
        else:
            result, item = next(leads)
            out.append({**result_json(result, item), "index": index})
    if not parsed.batch:
        status = {"created": 201, "duplicate": 200}.get(out[0]["status"], 422)
        return web.json_response(out[0], status=status)
    leads_only = [r for r in out if r.get("kind") != "signal"]
    summary = {k: sum(1 for r in leads_only if r["status"] == k) for k in ("created", "duplicate", "invalid")}
    if parsed.signals:
        summary["signals"] = sum(1 for r in out if r.get("kind") == "signal" and r["status"] != "invalid")
        summary["invalid"] += sum(1 for r in out if r.get("kind") == "signal" and r["status"] == "invalid")
    return web.json_response({**summary, "results": out}, status=200)


class IntakeApi:
    """The routes, with what they share: the runtime, the rate limiter."""

    def __init__(self, handoff: Runtime, *, limiter: RateLimiter | None = None) -> None:
        self.handoff = handoff
        self.limiter = limiter or RateLimiter(handoff.settings.intake_rate_limit)

    def register(self, app: web.Application) -> None:
        app.router.add_post("/api/leads", self.post_leads)
        app.router.add_get("/api/leads/{lead_id}", self.get_lead)
        app.router.add_get("/api/openapi.json", self.openapi)

    # -- shared gates: each raises Refused ---------------------------------------------------------

    def _check_rate(self, request: web.Request) -> None:
        wait = self.limiter.check(_client_key(request))
        if wait > 0:
            message = "too many requests; slow down and retry after the given seconds"
            raise Refused(429, message, **{"Retry-After": self.limiter.retry_after(wait)})

    async def _check_credentials(self, request: web.Request, signed: bytes) -> ApiCaller:
        try:
            return await authenticate(
                self.handoff.uow,
                self.handoff.settings.secret("intake_token"),
                credentials_from(request.headers, signed),
                self.handoff.clock.now(),
            )
        except Unauthenticated as exc:
            log.info("lead API: refused credentials from %s", _client_key(request))
            raise Refused(401, str(exc), **{"WWW-Authenticate": 'Bearer realm="handoff"'}) from None

    async def _read_json_body(self, request: web.Request) -> tuple[ApiCaller, bytes]:
        """The gates in their documented order up to the body: 429 → 413 → 415 → 401."""
        self._check_rate(request)
        too_large = f"request body is larger than {MAX_BODY} bytes"
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise Refused(413, too_large)
        body = await _read_capped(request)
        if body is None:
            raise Refused(413, too_large)
        if request.content_type != "application/json":
            raise Refused(415, "send Content-Type: application/json")
        caller = await self._check_credentials(request, body)
        return caller, body

    async def _team(self, caller: ApiCaller, requested: object) -> str:
        """The caller's workspace: a workspace token's own, or the single workspace for
        HANDOFF_INTAKE_TOKEN. A `team_id` naming any other is refused like an unknown one."""
        team = caller.team_id if caller.team_id is not None else await self._single_workspace()
        if requested is not None and requested != team:
            raise Refused(422, UNKNOWN_TEAM)
        if team is None:
            raise Refused(422, NO_SINGLE_WORKSPACE)
        return team

    async def _single_workspace(self) -> str | None:
        team = await self.handoff.default_team_id()
        if team is None:
            teams = await self.handoff.team_ids()
            team = teams[0] if len(teams) == 1 else None
        return team

    # -- routes ----------------------------------------------------------------------------------

    async def post_leads(self, request: web.Request) -> web.StreamResponse:
        try:
            caller, body = await self._read_json_body(request)
            parsed = parse_lead_request(body)
            team = await self._team(caller, parsed.team_id or request.query.get("team_id"))
        except Refused as refused:
            return refused.response
        if (signal := signal_body(body)) is not None:  # engagement on a customer (issue 19)
            return await post_signal(self.handoff, team, signal)
        leads = [item for n, item in enumerate(parsed.items) if n not in parsed.signals]
        results = await self._submit(team, leads) if leads else []
        signal_items = {n: (parsed.items[n], activity) for n, activity in parsed.signals.items()}
        signal_results = await receive_signal_items(self.handoff, team, signal_items)
        if signal_results:
            self.handoff.wake_sender()
        return leads_response(parsed, results, signal_results)

    async def _submit(self, team: str, items: list[LeadIn | InvalidInput]) -> list[ItemResult]:
        if not any(isinstance(i, LeadIn) for i in items):  # nothing to write: no transaction
            for _ in items:
                metrics.lead_submitted("api", "invalid")
            return [
                ItemResult(index=i, status="invalid", errors=getattr(e, "errors", None))
                for i, e in enumerate(items)
            ]
        async with self.handoff.open_context(team) as ctx:
            return await submit_many(ctx, items, origin="api")

    async def get_lead(self, request: web.Request) -> web.StreamResponse:
        try:
            self._check_rate(request)
            caller = await self._check_credentials(request, request.raw_path.encode())
            raw_id = request.match_info["lead_id"]
            if not raw_id.isdigit() or len(raw_id) > 18:
                raise Refused(404, "no such lead")
            team = await self._team(caller, request.query.get("team_id"))
        except Refused as refused:
            return refused.response
        async with self.handoff.uow() as uow:
            lead = await uow.leads.get(team, int(raw_id))
            if lead is None:
                return _error(404, "no such lead")
            events = await uow.events.for_lead(team, lead.id)
            rule = await uow.rules.get(team, lead.rule_id) if lead.rule_id else None
            decision = await uow.routing.decision(team, lead.id)
            routing = dict(decision.detail) if decision is not None else None
            body = lead_json(lead, events, rule, await uow.settings.reason_labels(team), routing)
        return web.json_response(body)

    async def openapi(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(openapi_document(str(request.url.origin())))


async def _read_capped(request: web.Request) -> bytes | None:
    """The body, or None once it passes MAX_BODY (chunked uploads carry no Content-Length)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)


def register(app: web.Application, handoff: Runtime) -> None:
    IntakeApi(handoff).register(app)
