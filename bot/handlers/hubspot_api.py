"""`POST /api/hubspot/leads`: a HubSpot workflow's "Send a webhook" action (or any HubSpot call
signed with the app's secret) becomes a lead. Gates, in order: 404 unless HUBSPOT_APP_SECRET is
set · 429 rate · 413 body over 1 MiB · 401 signature v3 or timestamp (5 minutes) · 401 a replay
· 400 not JSON; then 201 created, 200 duplicate, 422 invalid, as the lead API answers."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from aiohttp import web

from bot.domain import untrusted
from bot.domain.errors import Unauthenticated
from bot.domain.hubspot import check_signature
from bot.handlers.intake_api import MAX_BODY, NO_SINGLE_WORKSPACE, Refused, _read_capped, result_json
from bot.handlers.rate_limit import RateLimiter
from bot.services.hubspot_intake import receive_contact

if TYPE_CHECKING:
    from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

PATH = "/api/hubspot/leads"
SIGNATURE = "X-HubSpot-Signature-v3"
TIMESTAMP = "X-HubSpot-Request-Timestamp"


class HubSpotApi:
    def __init__(self, handoff: Runtime, *, limiter: RateLimiter | None = None) -> None:
        self.handoff = handoff
        self.limiter = limiter or RateLimiter(handoff.settings.intake_rate_limit)
        self.wall_ms = lambda: int(time.time() * 1000)  # HubSpot's timestamp is wall-clock ms

    async def post_lead(self, request: web.Request) -> web.StreamResponse:
        settings = self.handoff.settings
        secret = settings.secret("hubspot_app_secret")
        try:
            if not secret:
                raise Refused(404, "HubSpot intake is not configured (HUBSPOT_APP_SECRET)")
            wait = self.limiter.check(request.remote or "unknown")
            if wait > 0:
                raise Refused(429, "too many requests", **{"Retry-After": self.limiter.retry_after(wait)})
            if request.content_length is not None and request.content_length > MAX_BODY:
                raise Refused(413, f"request body is larger than {MAX_BODY} bytes")
            body = await _read_capped(request)
            if body is None:
                raise Refused(413, f"request body is larger than {MAX_BODY} bytes")
            uri = (settings.hubspot_webhook_url or str(request.url.with_query(None))) + (
                f"?{request.query_string}" if request.query_string else ""
            )
            why = check_signature(
                secret,
                method=request.method,
                uri=uri,
                body=body,
                timestamp=request.headers.get(TIMESTAMP),
                signature=request.headers.get(SIGNATURE),
                now_ms=self.wall_ms(),
            )
            if why is not None:
                log.info("HubSpot intake: refused a request from %s: %s", request.remote, why)
                raise Refused(401, why)
            try:
                payload = untrusted.loads(body)
            except ValueError:
                raise Refused(400, "the body is not JSON") from None
            team = await self.handoff.default_team_id()
            if team is None:
                teams = await self.handoff.team_ids()
                team = teams[0] if len(teams) == 1 else None
            if team is None:
                raise Refused(422, NO_SINGLE_WORKSPACE)
            try:
                async with self.handoff.open_context(team) as ctx:
                    result, item = await receive_contact(ctx, payload, signature=request.headers[SIGNATURE])
            except Unauthenticated as exc:
                raise Refused(401, str(exc)) from None
        except Refused as refused:
            return refused.response
        out = result_json(result, item)
        return web.json_response(out, status={"created": 201, "duplicate": 200}.get(out["status"], 422))


def register(app: web.Application, handoff: Runtime) -> None:
    app.router.add_post(PATH, HubSpotApi(handoff).post_lead)
