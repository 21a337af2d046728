"""A fake HubSpot for the calls Handoff makes (CRM v3): contacts search/create/update, owners by
email, notes create/search with a contact association, account details (for record links). Errors as HubSpot answers them
(https://developers.hubspot.com/docs/api/error-handling): 401 INVALID_AUTHENTICATION, 409
CONFLICT with "Existing ID: n", 429 RATE_LIMITS with X-HubSpot-RateLimit-* headers, 5xx.
Faults: `down` (every call 503), `script` (the next calls' answers), `revoke()` (401 from now on)."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.sandbox.fake_crm.serving import serve_locally


@dataclass
class FakeHubSpot:
    token: str = "pat-na1-fake-token"
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → properties
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → {properties, contact}
    owners: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → {email, …}
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every request
    down: bool = False
    script: list[tuple[str, float]] = field(
        default_factory=list
    )  # ("status", 503) | ("429", s) | ("hang", s)
    faults_injected: int = 0
    # paths whose next POST is carried out but answered 502 (the answer lost on the way back)
    lose_answer_to: set[str] = field(default_factory=set)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(101))
    _runner: web.AppRunner | None = None
    base_url: str = ""
    portal_id: int = 4417028

    def add_owner(self, email: str, first: str = "", last: str = "") -> str:
        owner_id = str(next(self._ids))
        self.owners[owner_id] = {"id": owner_id, "email": email, "firstName": first, "lastName": last}
        return owner_id

    def revoke(self) -> None:
        self.token = "revoked"

    def contact_by_email(self, email: str) -> tuple[str, dict[str, Any]] | None:
        return next(((i, p) for i, p in self.contacts.items() if p.get("email") == email.lower()), None)

    def notes_of(self, contact_id: str) -> list[str]:
        return [n["properties"]["hs_note_body"] for n in self.notes.values() if n["contact"] == contact_id]

    async def start(self) -> str:
        app = web.Application(middlewares=[self._gate])
        app.router.add_post("/crm/v3/objects/contacts/search", self._search_contacts)
        app.router.add_post("/crm/v3/objects/contacts", self._create_contact)
        app.router.add_patch("/crm/v3/objects/contacts/{id}", self._update_contact)
        app.router.add_get("/crm/v3/owners/", self._owners)
        app.router.add_post("/crm/v3/objects/notes", self._create_note)
        app.router.add_post("/crm/v3/objects/notes/search", self._search_notes)
        app.router.add_get("/account-info/v3/details", self._account)
        self._runner, self.base_url = await serve_locally(app)
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.calls.append((request.method, request.path))
        fault = self.script.pop(0) if self.script else (("status", 503.0) if self.down else None)
        if fault is not None:
            self.faults_injected += 1
            kind, value = fault
            if kind == "429":
                return web.json_response(
                    {"status": "error", "message": "You have reached your secondly limit.", "category": "RATE_LIMITS"},
                    status=429,
                    headers={"Retry-After": str(int(value)), "X-HubSpot-RateLimit-Remaining": "0",
                             "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"},
                )  # fmt: skip
            if kind == "hang":
                await asyncio.sleep(value)
            return web.json_response(
                {"status": "error", "message": "Service unavailable"}, status=int(value) or 503
            )
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response(
                {"status": "error", "category": "INVALID_AUTHENTICATION",
                 "message": "Authentication credentials not found."},
                status=401,
            )  # fmt: skip
        response = await handler(request)
        if request.method == "POST" and request.path in self.lose_answer_to:
            self.lose_answer_to.discard(request.path)
            self.faults_injected += 1
            return web.json_response({"status": "error", "message": "Bad gateway"}, status=502)
        return response

    def _record(self, object_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        return {"id": object_id, "properties": properties, "archived": False}

    async def _search_contacts(self, request: web.Request) -> web.Response:
        body = await request.json()
        [group] = body["filterGroups"]
        [flt] = group["filters"]
        found = self.contact_by_email(str(flt["value"])) if flt["propertyName"] == "email" else None
        results = [self._record(*found)] if found else []
        return web.json_response({"total": len(results), "results": results})

    async def _create_contact(self, request: web.Request) -> web.Response:
        properties = dict((await request.json())["properties"])
        properties["email"] = str(properties.get("email", "")).lower()
        existing = self.contact_by_email(properties["email"])
        if existing:
            return web.json_response(
                {
                    "status": "error",
                    "category": "CONFLICT",
                    "message": f"Contact already exists. Existing ID: {existing[0]}",
                },
                status=409,
            )
        contact_id = str(next(self._ids))
        self.contacts[contact_id] = properties
        return web.json_response(self._record(contact_id, properties), status=201)

    async def _update_contact(self, request: web.Request) -> web.Response:
        contact_id = request.match_info["id"]
        if contact_id not in self.contacts:
            return web.json_response(
                {"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Not found"}, status=404
            )
        self.contacts[contact_id].update((await request.json())["properties"])
        return web.json_response(self._record(contact_id, self.contacts[contact_id]))

    async def _account(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"portalId": self.portal_id, "accountType": "STANDARD", "timeZone": "US/Eastern",
             "companyCurrency": "USD", "uiDomain": "app.hubspot.com", "dataHostingLocation": "na1"}
        )  # fmt: skip

    async def _owners(self, request: web.Request) -> web.Response:
        email = request.query.get("email", "").lower()
        results = [o for o in self.owners.values() if o["email"].lower() == email]
        return web.json_response({"results": results})

    async def _create_note(self, request: web.Request) -> web.Response:
        body = await request.json()
        [assoc] = body.get("associations") or [{}]
        note_id = str(next(self._ids))
        self.notes[note_id] = {
            "properties": body["properties"],
            "contact": str(assoc.get("to", {}).get("id")),
        }
        return web.json_response(self._record(note_id, body["properties"]), status=201)

    async def _search_notes(self, request: web.Request) -> web.Response:
        body = await request.json()
        [group] = body["filterGroups"]
        [flt] = group["filters"]
        token = str(flt["value"])
        results = [
            self._record(i, n["properties"])
            for i, n in self.notes.items()
            if token in n["properties"]["hs_note_body"]
        ]
        return web.json_response({"total": len(results), "results": results})
