"""A fake Salesforce for the calls Handoff makes, answered as the REST API Developer Guide and the
OAuth 2.0 client credentials flow describe them:

- `POST /services/oauth2/token` (form: grant_type=client_credentials, client_id, client_secret) →
  200 {access_token, instance_url, id, token_type, issued_at, signature, scope}; a bad client →
  400 {"error": "invalid_client", "error_description": "invalid client credentials"}.
- `GET /services/data/vXX.X/query?q=<SOQL>` → 200 {totalSize, done, records: [{attributes, Id, …}]},
  for the SELECT … FROM Lead|User|Task WHERE a = 'x' [AND b LIKE '%y%'] [LIMIT n] Handoff sends;
  anything else → 400 MALFORMED_QUERY.
- `PATCH …/sobjects/Lead/{id}` → 204; `POST …/sobjects/Lead|Task` → 201 {id, success, errors}.
- Errors as JSON arrays `[{"message", "errorCode", "fields"}]`: 401 INVALID_SESSION_ID (no, an
  expired or a revoked token), 403 REQUEST_LIMIT_EXCEEDED, 404 NOT_FOUND, 400
  REQUIRED_FIELD_MISSING / INVALID_FIELD / INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, 503
  SERVER_UNAVAILABLE; every API answer carries `Sforce-Limit-Info: api-usage=n/limit`.

Faults: `down` (every call 503), `script` (the next calls' answers: ("status", 503), ("limit", 0),
("hang", seconds)), `expire_tokens()` (issued tokens answer 401, a new one works), `revoke()` (the
connected app's credentials refused from now on), `lose_answer_to` (a POST carried out, answered
502), `daily_limit` (calls beyond it answer REQUEST_LIMIT_EXCEEDED)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import random
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.sandbox.fake_crm.serving import serve_locally

LEAD_STATUSES = frozenset(
    {"Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"}
)
RATINGS = frozenset({"Hot", "Warm", "Cold"})
LEAD_FIELDS = frozenset(
    {"FirstName", "LastName", "Email", "Company", "Title", "Phone", "LeadSource", "Status", "Rating",
     "OwnerId", "Description", "Country", "Industry"}
)  # fmt: skip
TASK_FIELDS = frozenset({"Subject", "Description", "WhoId", "Status", "Priority", "ActivityDate", "OwnerId"})
PREFIX = {"Lead": "00Q", "Task": "00T", "User": "005"}
API = "/services/data/{version:v\\d+\\.\\d}"

# the SOQL Handoff sends: SELECT fields FROM object WHERE conditions joined by AND [LIMIT n]
_SELECT = re.compile(
    r"^\s*SELECT\s+(?P<fields>[\w\s,]+?)\s+FROM\s+(?P<object>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(
    r"\s*(?P<field>\w+)\s*(?P<op>=|LIKE)\s*(?:'(?P<text>(?:\\.|[^'\\])*)'|(?P<bool>true|false))\s*(?:AND|$)",
    re.IGNORECASE,
)
_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t"}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _UNESCAPE.get(m.group(1), m.group(1)), text)


def _like(pattern: str, value: str) -> bool:
    """SOQL LIKE: % any run, _ one character, \\% and \\_ themselves; case-insensitive."""
    out = ""
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out += re.escape(pattern[i + 1])
            i += 2
            continue
        out += ".*" if char == "%" else "." if char == "_" else re.escape(char)
        i += 1
    return re.fullmatch(out, value, re.IGNORECASE | re.DOTALL) is not None


def _errors(status: int, code: str, message: str, fields: list[str] | None = None) -> web.Response:
    return web.json_response([{"message": message, "errorCode": code, "fields": fields or []}], status=status)


@dataclass
class FakeSalesforce:
    client_id: str = "3MVG9fake.consumer.key"
    client_secret: str = "fake-consumer-secret-1f0c"
    org_id: str = "00D000000000001EAA"
    leads: dict[str, dict[str, Any]] = field(default_factory=dict)  # Id → fields
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every request
    queries: list[str] = field(default_factory=list)
    tokens_issued: int = 0
    down: bool = False
    script: list[tuple[str, float]] = field(default_factory=list)
    faults_injected: int = 0
    lose_answer_to: set[str] = field(default_factory=set)  # e.g. "Task": the next create answers 502
    daily_limit: int = 15000
    # the bench's random faults: this share of API calls answers 503, REQUEST_LIMIT_EXCEEDED, or
    # finds its session expired (401); a Task's create may lose its answer (502 after writing)
    fault_rate: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(17))
    api_usage: int = 0
    _tokens: set[str] = field(default_factory=set)
    _revoked: bool = False
    _latest: str = ""
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    base_url: str = ""

    # ------------------------------------------------------------------ state a test sets or reads

    def new_id(self, sobject: str) -> str:
        return f"{PREFIX[sobject]}{next(self._ids):012d}AAA"

    def add_user(self, email: str, name: str = "", active: bool = True) -> str:
        user_id = self.new_id("User")
        self.users[user_id] = {"Id": user_id, "Email": email, "Name": name, "IsActive": active}
        return user_id

    def add_lead(self, **values: Any) -> str:
        lead_id = self.new_id("Lead")
        self.leads[lead_id] = {"Status": "Open - Not Contacted", **values}
        return lead_id

    def lead_by_email(self, email: str) -> tuple[str, dict[str, Any]] | None:
        return next(
            ((i, f) for i, f in self.leads.items() if str(f.get("Email", "")).lower() == email.lower()), None
        )

    def tasks_of(self, lead_id: str) -> list[dict[str, Any]]:
        return [t for t in self.tasks.values() if t.get("WhoId") == lead_id]

    def expire_tokens(self) -> None:
        """Every issued token answers 401 INVALID_SESSION_ID (a session timeout); a new one works."""
        self._tokens.clear()

    def revoke(self) -> None:
        """The connected app's credentials no longer work (secret rotated, app blocked)."""
        self._revoked = True
        self._tokens.clear()

    # ----------------------------------------------------------------------------------- the server

    async def start(self) -> str:
        app = web.Application(middlewares=[self._gate])
        app.router.add_post("/services/oauth2/token", self._token)
        app.router.add_get(API + "/query", self._query)
        app.router.add_get(API + "/query/", self._query)
        app.router.add_post(API + "/sobjects/{object}", self._create)
        app.router.add_post(API + "/sobjects/{object}/", self._create)
        app.router.add_patch(API + "/sobjects/{object}/{id}", self._update)
        self._runner, self.base_url = await serve_locally(app)
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.calls.append((request.method, request.path))
        fault = self.script.pop(0) if self.script else (("status", 503.0) if self.down else None)
        if fault is None and self.fault_rate and request.path != "/services/oauth2/token":
            if self.rng.random() < self.fault_rate:
                fault = self.rng.choice([("status", 503.0), ("limit", 0.0), ("expire", 0.0), ("lose", 0.0)])
        if fault is not None and fault[0] == "expire":
            if request.headers.get("Authorization") == f"Bearer {self._latest}":
                fault = ("status", 503.0)  # a session does not time out the moment it is made
            else:
                self.faults_injected += 1
                self.expire_tokens()
                fault = None
        if fault is not None and fault[0] == "lose":
            self.faults_injected += 1
            self.lose_answer_to.add("Task")
            fault = None
        if fault is not None:
            self.faults_injected += 1
            kind, value = fault
            if kind == "limit":
                return _errors(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            if kind == "hang":
                await asyncio.sleep(value)
            return _errors(int(value) or 503, "SERVER_UNAVAILABLE", "Server temporarily unavailable")
        if request.path == "/services/oauth2/token":
            return await handler(request)
        authorization = request.headers.get("Authorization", "")
        if not authorization.startswith("Bearer ") or authorization[7:] not in self._tokens:
            return _errors(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if self.api_usage >= self.daily_limit:
            return _errors(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        self.api_usage += 1
        response = await handler(request)
        sobject = request.match_info.get("object")
        if request.method == "POST" and sobject in self.lose_answer_to:
            self.lose_answer_to.discard(sobject)
            self.faults_injected += 1
            return web.Response(status=502, text="Bad Gateway")  # a proxy's page, not JSON
        response.headers["Sforce-Limit-Info"] = f"api-usage={self.api_usage}/{self.daily_limit}"
        return response

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return web.json_response(
                {"error": "unsupported_grant_type", "error_description": "grant type not supported"},
                status=400,
            )
        if (
            self._revoked
            or form.get("client_id") != self.client_id
            or not hmac.compare_digest(str(form.get("client_secret", "")), self.client_secret)
        ):
            return web.json_response(
                {"error": "invalid_client", "error_description": "invalid client credentials"}, status=400
            )
        token = f"{self.org_id[:15]}!{secrets.token_urlsafe(24)}"
        self._tokens.add(token)
        self._latest = token
        self.tokens_issued += 1
        issued_at = str(int(time.time() * 1000))
        identity = f"{self.base_url}/id/{self.org_id}/005000000000000AAA"
        signature = base64.b64encode(
            hmac.new(self.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
        ).decode()
        return web.json_response(
            {
                "access_token": token,
                "signature": signature,
                "scope": "api",
                "instance_url": self.base_url,
                "id": identity,
                "token_type": "Bearer",
                "issued_at": issued_at,
            }
        )

    def _table(self, sobject: str) -> dict[str, dict[str, Any]] | None:
        return {"Lead": self.leads, "Task": self.tasks, "User": self.users}.get(sobject)

    async def _query(self, request: web.Request) -> web.Response:
        soql = request.query.get("q", "")
        self.queries.append(soql)
        match = _SELECT.match(soql)
        table = self._table(match.group("object")) if match else None
        if match is None or table is None:
            return _errors(400, "MALFORMED_QUERY", f"unexpected token: {soql[:40]!r}")
        fields = [f.strip() for f in match.group("fields").split(",")]
        conditions: list[tuple[str, str, Any]] = []
        where = match.group("where") or ""
        position = 0
        while position < len(where):
            cond = _CONDITION.match(where, position)
            if cond is None or cond.end() == position:
                return _errors(400, "MALFORMED_QUERY", f"unexpected token near {where[position:][:40]!r}")
            value: Any = (
                _unescape(cond.group("text"))
                if cond.group("text") is not None
                else cond.group("bool") == "true"
            )
            if cond.group("op").upper() == "LIKE" and cond.group("text") is not None:
                value = cond.group("text")  # the pattern keeps its escapes for _like
            conditions.append((cond.group("field"), cond.group("op").upper(), value))
            position = cond.end()
        rows = []
        for record_id, record in table.items():
            row = {"Id": record_id, **record}
            if all(
                _like(value, str(row.get(name, ""))) if op == "LIKE" else _equal(row.get(name), value)
                for name, op, value in conditions
            ):
                rows.append(row)
        if match.group("limit"):
            rows = rows[: int(match.group("limit"))]
        sobject = match.group("object")
        records = [
            {
                "attributes": {"type": sobject, "url": f"{request.path.rsplit('/query', 1)[0]}/sobjects/{sobject}/{r['Id']}"},
                **{f: r.get(f) for f in fields},
            }
            for r in rows
        ]  # fmt: skip
        return web.json_response({"totalSize": len(records), "done": True, "records": records})

    def _invalid(self, sobject: str, values: dict[str, Any]) -> web.Response | None:
        allowed = LEAD_FIELDS if sobject == "Lead" else TASK_FIELDS
        for name in values:
            if name not in allowed:
                return _errors(
                    400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}", [name]
                )
        if sobject == "Lead":
            if "Status" in values and values["Status"] not in LEAD_STATUSES:
                return _errors(
                    400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", f"Lead Status: bad value for restricted picklist field: {values['Status']}", ["Status"]
                )  # fmt: skip
            if "Rating" in values and values["Rating"] not in RATINGS:
                return _errors(
                    400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "Rating: bad value", ["Rating"]
                )
            if "OwnerId" in values and values["OwnerId"] not in self.users:
                return _errors(
                    400, "FIELD_INTEGRITY_EXCEPTION", "Owner ID: id value of incorrect type", ["OwnerId"]
                )
        return None

    async def _create(self, request: web.Request) -> web.Response:
        sobject = request.match_info["object"]
        if sobject not in ("Lead", "Task"):
            return _errors(404, "NOT_FOUND", "The requested resource does not exist")
        try:
            values = await request.json()
        except ValueError:
            return _errors(400, "JSON_PARSER_ERROR", "Unexpected character")
        invalid = self._invalid(sobject, values)
        if invalid is not None:
            return invalid
        if sobject == "Lead":
            missing = [f for f in ("LastName", "Company") if not values.get(f)]
            if missing:
                return _errors(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    missing,
                )
            values.setdefault("Status", "Open - Not Contacted")
        elif values.get("WhoId") and values["WhoId"] not in self.leads:
            return _errors(400, "FIELD_INTEGRITY_EXCEPTION", "Name ID: id value of incorrect type", ["WhoId"])
        record_id = self.new_id(sobject)
        self._table(sobject)[record_id] = dict(values)  # type: ignore[index]
        return web.json_response({"id": record_id, "success": True, "errors": []}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        sobject, record_id = request.match_info["object"], request.match_info["id"]
        table = self._table(sobject)
        if table is None or record_id not in table:
            return _errors(404, "NOT_FOUND", "The requested resource does not exist")
        values = await request.json()
        invalid = self._invalid(sobject, values)
        if invalid is not None:
            return invalid
        table[record_id].update(values)
        return web.Response(status=204)


def _equal(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool):
        return bool(actual) == wanted  # an unset checkbox is false
    return str(actual or "").lower() == str(wanted).lower()  # SOQL = on text is case-insensitive
