"""HubSpot sync through the outbox: on a claim, a verdict or a stage, the lead's contact is found
(search by email) or created, its lifecycle stage, lead status and owner are set, and verdicts
add a note. Plain aiohttp for five REST calls (the official SDK is synchronous, generated for
every endpoint, and would need a thread per call).

Rendered at send time, so a sync that waited out an outage writes the lead as it is now. Every
step is an upsert except the note: a note carries our mark (the outbox row), and a retry looks
for it before writing, as Slack posts are looked up. 429 waits for Retry-After (or HubSpot's
10-second window); timeouts, resets and 5xx retry with backoff; a refused token fails the row and
tells the admins once a day."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain import salesforce
from bot.domain.lead import Status
from bot.domain.outbox import Purpose
from bot.domain.reasons import reason_label
from bot.messages import ALERT_CRM_TOKEN
from bot.outbox.notifier import Notifier
from bot.outbox.outcome import Backoff, Call, Outcome, RowSnapshot, short_error
from bot.outbox.pacing import Pacer, Stopping
from bot.outbox.rendering import Rendered
from bot.slack.clients import SlackClients
from bot.storage.models import Lead, Outbox
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# lead status → HubSpot contact properties (lifecycle stages only move forward in HubSpot)
PROPERTIES: dict[str, dict[str, str]] = {
    Status.NEW: {"hs_lead_status": "OPEN"},
    Status.CLAIMED: {"hs_lead_status": "IN_PROGRESS"},
    Status.ACCEPTED: {"lifecyclestage": "salesqualifiedlead", "hs_lead_status": "OPEN"},
    Status.CONTACTED: {"hs_lead_status": "CONNECTED"},
    Status.MEETING_BOOKED: {"lifecyclestage": "opportunity", "hs_lead_status": "OPEN_DEAL"},
    Status.OPPORTUNITY: {"lifecyclestage": "opportunity", "hs_lead_status": "OPEN_DEAL"},
    Status.WON: {"lifecyclestage": "customer"},
    Status.LOST: {"hs_lead_status": "BAD_TIMING"},
    Status.REJECTED: {"hs_lead_status": "UNQUALIFIED"},
    Status.RETURNED: {"hs_lead_status": "UNQUALIFIED"},
}
HUBSPOT, SALESFORCE = "hubspot", "salesforce"
NOTE_MOMENTS = frozenset({"accepted", "rejected", "stage"})
NOTE_TO_CONTACT = 202  # HubSpot-defined association type: note → contact
EXISTING_ID = re.compile(r"Existing ID: (\d+)")


class CrmFailure(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.error)
        self.outcome = outcome


def note_text(lead: Any, moment: str, reasons: dict[str, str]) -> str | None:
    if moment not in NOTE_MOMENTS:
        return None
    if lead.status == Status.ACCEPTED:
        text = f"Handoff: accepted by sales, rating {lead.quality}/5"
    elif lead.status == Status.REJECTED:
        why = reason_label(lead.reject_reason, reasons) if lead.reject_reason else "no reason"
        text = f"Handoff: rejected by sales — {why}" + (
            f" ({lead.reject_detail})" if lead.reject_detail else ""
        )
    elif lead.status == Status.WON:
        text = f"Handoff: won, {lead.won_amount} {lead.currency or ''}".rstrip()
    elif lead.status == Status.LOST:
        text = "Handoff: lost" + (f" — {lead.lost_reason}" if lead.lost_reason else "")
    else:
        return None
    if lead.verdict_comment:
        text += f". Comment: {lead.verdict_comment}"
    return text


class CrmRenderer:
    """A CRM sync row → the arguments of its CRM's delivery, from the lead as it is now."""

    purposes = frozenset({Purpose.CRM_SYNC})

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.session_factory = session_factory
        self.status_map = salesforce.parse_status_map(settings.salesforce_status_map)

    async def render(self, rows: Sequence[tuple[RowSnapshot, dict[str, Any]]]) -> Rendered:
        calls: Rendered = {}
        async with UnitOfWork(self.session_factory) as uow:
            for row, args in rows:
                lead = await uow.leads.get(row.team_id, row.lead_id or 0)
                if lead is None:
                    calls[row.id] = Outcome.fail("the lead no longer exists")
                    continue
                note = note_text(lead, str(args.get("moment")), await uow.settings.reason_labels(row.team_id))
                if args.get("crm") == SALESFORCE:
                    calls[row.id] = (row.method, await self._salesforce(uow, row, lead, note))
                    continue
                first, _, last = (lead.name or "").partition(" ")
                calls[row.id] = (
                    row.method,
                    {
                        "crm": HUBSPOT,
                        "email": lead.email,
                        "contact": {k: v for k, v in {"email": lead.email, "firstname": first, "lastname": last,
                                                      "company": lead.company, "jobtitle": lead.title}.items() if v},
                        "properties": dict(PROPERTIES.get(Status(lead.status), {})),
                        "owner_id": lead.owner_id,
                        "note": f"{note} [handoff{row.id}]" if note else None,
                        "mark": f"handoff{row.id}",
                    },
                )  # fmt: skip
        return calls

    async def _salesforce(
        self, uow: UnitOfWork, row: RowSnapshot, lead: Lead, note: str | None
    ) -> dict[str, Any]:
        stored = await uow.crm_records.get(row.team_id, lead.id, SALESFORCE)
        known = stored.record_id if stored else (lead.fields or {}).get("salesforce_id")
        mark = f"handoff{row.id}"
        return {
            "crm": SALESFORCE,
            "email": lead.email,
            "record_id": known if salesforce.is_lead_id(known) else None,
            "lead": salesforce.new_lead(lead.email, lead.name, lead.company, lead.title),
            "fields": salesforce.lead_update(lead.status, lead.quality, self.status_map),
            "owner_id": lead.owner_id,
            "task": {
                "Subject": salesforce.task_subject(note.partition(". Comment:")[0], mark),
                "Description": note,
            }
            if note
            else None,
            "mark": mark,
        }

    async def record_sent(self, uow: UnitOfWork, row: Outbox, outcome: Outcome) -> None:
        """Keep the record the sync wrote to; once the lead's last CRM write is through, edit its
        card so "CRM sync pending" gives way to the link."""
        if row.lead_id is None:
            return
        crm = str((row.payload or {}).get("crm") or HUBSPOT)
        at = row.sent_at or row.created_at
        if outcome.crm_record is not None:
            record_id, url = outcome.crm_record
            await uow.crm_records.save(row.team_id, row.lead_id, crm, record_id=record_id, url=url, at=at)
        if await uow.crm_records.unsynced([row.lead_id], besides=row.id):
            return
        lead = await uow.leads.get(row.team_id, row.lead_id)
        if lead is not None and lead.message_ts:
            await Notifier(uow.outbox, now=at).refresh_lead_card(lead)


class CrmDeliveries:
    """The delivery of CRM sync rows: each row goes to its CRM's client (payload "crm")."""

    def __init__(self, by_crm: dict[str, Any]) -> None:
        self.by_crm = by_crm

    async def attempt(self, row: RowSnapshot, call: Call, lease_left: Callable[[], float]) -> Outcome:
        crm = str(row.payload.get("crm") or HUBSPOT)
        delivery = self.by_crm.get(crm)
        if delivery is None:
            return Outcome.fail(f"{crm} is not configured")
        outcome: Outcome = await delivery.attempt(row, call, lease_left)
        return outcome

    async def aclose(self) -> None:
        for delivery in self.by_crm.values():
            await delivery.aclose()


class CrmConnection:
    """What a CRM's delivery does the same whatever the CRM: one HTTP session, a hold on every call
    while the CRM asks us to wait, the sync bounded by the row's lease, the Slack owner's email, and
    one DM a day to the admins when the CRM refuses our credentials. Subclasses write `_sync_record`
    (the record ID and its page) and the wire."""

    crm = ""  # in errors, keys and logs
    held_reason = ""  # why a held call waits

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        pacer: Pacer,
        backoff: Backoff,
        clients: SlackClients,
        timeout: float = 10.0,
    ) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.clock = clock
        self.pacer = pacer
        self.backoff = backoff
        self.clients = clients
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._held_until = 0.0  # every call waits until then (epoch seconds, injected clock)
        self.calls = 0

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    def _hold(self, seconds: float) -> None:
        self._held_until = self.clock.now().timestamp() + seconds

    async def attempt(self, row: RowSnapshot, call: Call, lease_left: Callable[[], float]) -> Outcome:
        held = self._held_until - self.clock.now().timestamp()
        if held > 0:
            return Outcome.retry(held, f"{self.crm}: {self.held_reason}")
        if lease_left() < self.timeout + 2:
            return Outcome.release()
        _, args = call
        try:
            # the whole sync ends within the lease: a later attempt (which looks for its note or
            # task first) must never overlap this one
            async with asyncio.timeout(lease_left() - 2):
                record = await self._sync_record(row, args)
        except CrmFailure as failure:
            return failure.outcome
        except Stopping:
            return Outcome.release()
        except TimeoutError:
            return Outcome.retry(
                max(self.backoff(row.attempts), self.timeout), f"{self.crm}: sync outlasted the lease"
            )
        return Outcome.sent(crm_record=record)

    async def _sync_record(self, row: RowSnapshot, args: dict[str, Any]) -> tuple[str, str | None]:
        """Write the lead to the CRM; (its record ID, the record's page if known)."""
        raise NotImplementedError

    async def _slack_email(self, row: RowSnapshot, slack_user: str | None) -> str | None:
        """The Slack user's email (users.info), to find their CRM user; None when unknown (the
        rest of the sync still goes)."""
        if not slack_user:
            return None
        try:
            client = await self.clients.outbox(row.team_id)
            info = await client.users_info(user=slack_user)
            email = ((info.get("user") or {}).get("profile") or {}).get("email")
        except Exception as exc:
            log.info("%s sync: no email for %s: %s", self.crm, slack_user, short_error(exc))
            return None
        return str(email) if email else None

    async def _alert_once(self, row: RowSnapshot, text: str) -> None:
        """One DM to the admins per day however many rows meet the refused credentials."""
        now = self.clock.now()
        async with UnitOfWork(self.session_factory) as uow:
            if await uow.keys.remember(
                team_id=row.team_id, key=f"crm:{self.crm}:auth", at=now, ttl=timedelta(days=1)
            ):
                own = await uow.settings.admins(row.team_id)
                admins = own if own is not None else self.settings.admins
                await Notifier(uow.outbox, now=now, admins=admins).alert_admins(row.team_id, text)


class HubSpotDelivery(CrmConnection):
    crm, held_reason = HUBSPOT, "rate limited"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._portal: tuple[str, str] | None = None  # (account ID, UI host) for record links

    async def _sync_record(self, row: RowSnapshot, args: dict[str, Any]) -> tuple[str, str | None]:
        contact = await self._sync(row, args)
        return contact, await self._record_url(contact)

    async def _record_url(self, contact: str) -> str | None:
        """The contact's page: the account's ID and UI host come from account-info, asked once (a
        token without that permission only costs the card its link)."""
        if self._portal is None:
            url = self.settings.hubspot_api_url.rstrip("/") + "/account-info/v3/details"
            headers = {"Authorization": f"Bearer {self.settings.secret('hubspot_access_token')}"}
            try:
                async with self._http().get(url, headers=headers) as response:
                    details = await response.json(content_type=None) if response.status == 200 else {}
            except (TimeoutError, aiohttp.ClientError, OSError, ValueError):
                return None  # asked again next time
            details = details if isinstance(details, dict) else {}
            portal = details.get("portalId")
            if not isinstance(portal, int):
                self._portal = ("", "")
            else:
                self._portal = (str(portal), str(details.get("uiDomain") or "app.hubspot.com"))
        portal_id, host = self._portal
        return f"https://{host}/contacts/{portal_id}/record/0-1/{contact}" if portal_id else None

    async def _sync(self, row: RowSnapshot, args: dict[str, Any]) -> str:
        contact = await self._contact(row, args)
        props = dict(args["properties"])
        owner = await self._owner(row, args.get("owner_id"))
        if owner is not None:
            props["hubspot_owner_id"] = owner
        elif args.get("owner_id") is None:
            props["hubspot_owner_id"] = ""  # released: nobody owns it now
        await self._request(row, "PATCH", f"/crm/v3/objects/contacts/{contact}", {"properties": props})
        if args.get("note"):
            await self._note(row, contact, str(args["note"]), str(args["mark"]))
        return contact

    async def _contact(self, row: RowSnapshot, args: dict[str, Any]) -> str:
        search = {
            "filterGroups": [
                {"filters": [{"propertyName": "email", "operator": "EQ", "value": args["email"]}]}
            ],
            "properties": ["email"],
            "limit": 1,
        }
        _, found = await self._request(row, "POST", "/crm/v3/objects/contacts/search", search)
        if found.get("results"):
            return str(found["results"][0]["id"])
        status, made = await self._request(
            row, "POST", "/crm/v3/objects/contacts", {"properties": args["contact"]}, ok=(201, 409)
        )
        if status == 409:  # created meanwhile (another attempt, a HubSpot form): use that one
            match = EXISTING_ID.search(str(made.get("message")))
            if match is None:
                raise CrmFailure(Outcome.retry(self.backoff(row.attempts), "hubspot: 409 without an ID"))
            return match.group(1)
        return str(made["id"])

    async def _owner(self, row: RowSnapshot, slack_user: str | None) -> str | None:
        """Slack user → their email → the HubSpot owner with that email; None when either is
        unknown (the rest of the sync still goes)."""
        email = await self._slack_email(row, slack_user)
        if email is None:
            return None
        _, owners = await self._request(row, "GET", f"/crm/v3/owners/?email={email}&limit=1", None)
        results = owners.get("results") or []
        return str(results[0]["id"]) if results else None

    async def _note(self, row: RowSnapshot, contact: str, body: str, mark: str) -> None:
        if row.attempts > 1:  # an earlier attempt may have written it: look first
            search = {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": "hs_note_body", "operator": "CONTAINS_TOKEN", "value": mark}
                        ]
                    }
                ]
            }
            _, found = await self._request(row, "POST", "/crm/v3/objects/notes/search", search)
            if found.get("results"):
                return
        note = {
            "properties": {"hs_timestamp": self.clock.now().isoformat(), "hs_note_body": body},
            "associations": [
                {
                    "to": {"id": contact},
                    "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT}
                    ],
                }
            ],
        }
        await self._request(row, "POST", "/crm/v3/objects/notes", note, ok=(201,))

    async def _request(
        self,
        row: RowSnapshot,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        ok: tuple[int, ...] = (200,),
    ) -> tuple[int, dict[str, Any]]:
        await self.pacer.acquire(
            "crm:hubspot", rate=self.settings.hubspot_rate, burst=self.settings.hubspot_rate
        )
        headers = {"Authorization": f"Bearer {self.settings.secret('hubspot_access_token')}"}
        url = self.settings.hubspot_api_url.rstrip("/") + path
        self.calls += 1
        try:
            async with self._http().request(method, url, json=body, headers=headers) as response:
                status = response.status
                try:
                    data = await response.json(content_type=None)
                except ValueError:
                    data = {}
                retry_after = response.headers.get("Retry-After")
                window = response.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
        except TimeoutError as exc:
            raise CrmFailure(
                Outcome.retry(max(self.backoff(row.attempts), self.timeout), "hubspot: timeout")
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise CrmFailure(
                Outcome.retry(self.backoff(row.attempts), f"hubspot: {short_error(exc)}")
            ) from exc
        data = data if isinstance(data, dict) else {}
        if status in ok:
            return status, data
        if status == 429:
            wait = header_seconds(retry_after, 0) or (header_seconds(window, 10_000) / 1000)
            self._hold(wait)
            raise CrmFailure(Outcome.retry(wait, "hubspot: rate limited"))
        if status in (401, 403):
            await self._alert_once(row, ALERT_CRM_TOKEN.format(crm="HubSpot", status=status))
            raise CrmFailure(Outcome.fail(f"hubspot: the access token was refused ({status})"))
        error = f"hubspot: {status} {str(data.get('category') or data.get('message') or '')[:100]}".strip()
        if status >= 500 or status == 408:
            raise CrmFailure(Outcome.retry(self.backoff(row.attempts), error))
        raise CrmFailure(Outcome.fail(error))


def header_seconds(value: str | None, default: float) -> float:
    try:
        return max(0.0, float(value)) if value else default
    except ValueError:
        return default
