"""Salesforce sync through the outbox: on a claim, a verdict or a stage, the lead's Salesforce Lead
is found (by its stored Id, else by SOQL on Email) or created, its Status, Rating and OwnerId (the
Slack owner's email → an active User) are set, and verdicts log a completed Task.

Plain aiohttp for the five REST calls used: simple-salesforce is synchronous (requests), so each
call would block the event loop or need a thread, and it brings nothing these calls need.

Auth: the connected app's OAuth 2.0 client credentials flow (`POST /services/oauth2/token` on the
org's My Domain), the token cached per process and fetched anew once when a call answers 401
INVALID_SESSION_ID (a session timeout); refused credentials (a 4xx from the token endpoint such as
invalid_client or invalid_grant, 401 again with a fresh token, or 403 without the limit code) fail the row and tell the admins once
a day. REQUEST_LIMIT_EXCEEDED (403) holds every call for SALESFORCE_LIMIT_PAUSE_SECONDS: the org's
allowance is a rolling 24 hours, with no Retry-After. Timeouts, resets and 5xx retry with backoff.

Every step is an upsert except the Task: its Subject carries our mark (the outbox row), and a retry
looks for it by SOQL before creating it, as Slack posts are looked up."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from bot.domain.salesforce import soql_like, soql_string
from bot.messages import ALERT_CRM_CREDENTIALS
from bot.outbox.crm_delivery import SALESFORCE, CrmConnection, CrmFailure, header_seconds
from bot.outbox.outcome import Outcome, RowSnapshot, short_error

log = logging.getLogger(__name__)


class NotFound(Exception):
    """404 NOT_FOUND: the stored Id no longer names a Lead (deleted, merged)."""


class SalesforceDelivery(CrmConnection):
    crm, held_reason = SALESFORCE, "request limit exceeded"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._token: str | None = None
        self._instance_url = ""
        self._token_lock = asyncio.Lock()
        self.token_requests = 0

    def _api(self, path: str) -> str:
        return f"{self._instance_url}/services/data/{self.settings.salesforce_api_version}{path}"

    async def _sync_record(self, row: RowSnapshot, args: dict[str, Any]) -> tuple[str, str | None]:
        lead_id = await self._sync(row, args)
        return lead_id, f"{self._instance_url}/lightning/r/Lead/{lead_id}/view"

    async def _sync(self, row: RowSnapshot, args: dict[str, Any]) -> str:
        fields = dict(args["fields"])
        owner = await self._owner(row, args.get("owner_id"))
        if owner is not None:
            fields["OwnerId"] = owner  # released: the owner stays (a Lead always has one)
        lead_id = args.get("record_id")
        if lead_id:
            try:
                await self._request(row, "PATCH", f"/sobjects/Lead/{lead_id}", fields, ok=(204,))
            except NotFound:
                lead_id = None
        if not lead_id:
            lead_id = await self._find(row, str(args["email"]))
            if lead_id:
                await self._request(row, "PATCH", f"/sobjects/Lead/{lead_id}", fields, ok=(204,))
            else:
                _, made = await self._request(
                    row, "POST", "/sobjects/Lead", {**args["lead"], **fields}, ok=(201,)
                )
                lead_id = str(made["id"])
        if args.get("task"):
            await self._task(row, lead_id, dict(args["task"]), str(args["mark"]), owner)
        return lead_id

    async def _query(self, row: RowSnapshot, soql: str) -> list[dict[str, Any]]:
        _, found = await self._request(row, "GET", "/query", None, params={"q": soql})
        records = found.get("records")
        return records if isinstance(records, list) else []

    async def _find(self, row: RowSnapshot, email: str) -> str | None:
        records = await self._query(
            row, f"SELECT Id FROM Lead WHERE Email = {soql_string(email)} AND IsConverted = false LIMIT 1"
        )
        return str(records[0]["Id"]) if records else None

    async def _owner(self, row: RowSnapshot, slack_user: str | None) -> str | None:
        """Slack user → their email → the active Salesforce User with that email; None when either
        is unknown (the rest of the sync still goes)."""
        email = await self._slack_email(row, slack_user)
        if email is None:
            return None
        records = await self._query(
            row, f"SELECT Id FROM User WHERE Email = {soql_string(email)} AND IsActive = true LIMIT 1"
        )
        return str(records[0]["Id"]) if records else None

    async def _task(
        self, row: RowSnapshot, lead_id: str, task: dict[str, str], mark: str, owner: str | None
    ) -> None:
        if row.attempts > 1:  # an earlier attempt may have logged it: look first
            records = await self._query(
                row,
                f"SELECT Id FROM Task WHERE WhoId = {soql_string(lead_id)} "
                f"AND Subject LIKE {soql_like(f'[{mark}]')} LIMIT 1",
            )
            if records:
                return
        body = {
            **task,
            "WhoId": lead_id,
            "Status": "Completed",
            "Priority": "Normal",
            "ActivityDate": self.clock.now().date().isoformat(),
        }
        if owner is not None:
            body["OwnerId"] = owner
        await self._request(row, "POST", "/sobjects/Task", body, ok=(201,))

    # ------------------------------------------------------------------------------ the wire

    async def _access(self, row: RowSnapshot, *, stale: str | None = None) -> str:
        """The cached token, or a new one; `stale` is a token Salesforce just refused (fetched
        anew unless another call already did)."""
        async with self._token_lock:
            if self._token is not None and self._token != stale:
                return self._token
            self._token = None
            form = {
                "grant_type": "client_credentials",
                "client_id": self.settings.salesforce_client_id or "",
                "client_secret": self.settings.secret("salesforce_client_secret"),
            }
            url = self.settings.salesforce_login_url.rstrip("/") + "/services/oauth2/token"
            self.token_requests += 1
            status, data, _ = await self._send(row, "POST", url, data=form)
            if (
                status == 200
                and isinstance(data, dict)
                and data.get("access_token")
                and data.get("instance_url")
            ):
                self._token = str(data["access_token"])
                self._instance_url = str(data["instance_url"]).rstrip("/")
                return self._token
            error = str(data.get("error") or "") if isinstance(data, dict) else ""
            if 400 <= status < 500 and status not in (408, 429):
                # invalid_client, invalid_grant, unsupported_grant_type…: retrying cannot fix these
                await self._alert_once(
                    row, ALERT_CRM_CREDENTIALS.format(crm="Salesforce", why=f"{status} {error}".strip())
                )
                raise CrmFailure(
                    Outcome.fail(f"salesforce: the connected app was refused ({status} {error})")
                )
            raise CrmFailure(
                Outcome.retry(self.backoff(row.attempts), f"salesforce: token endpoint {status} {error}")
            )

    async def _request(
        self,
        row: RowSnapshot,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        ok: tuple[int, ...] = (200,),
        params: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        token = await self._access(row)
        for refreshed in (False, True):
            await self.pacer.acquire(
                "crm:salesforce", rate=self.settings.salesforce_rate, burst=self.settings.salesforce_rate
            )
            # the instance URL comes with the token (it can change with a new one)
            status, data, headers = await self._send(
                row,
                method,
                self._api(path),
                json=body,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
            code = _error_code(data)
            if status == 401 and not refreshed:
                token = await self._access(row, stale=token)  # a session timeout: one new token
                continue
            break
        if status in ok:
            return status, data if isinstance(data, dict) else {}
        message = _error_message(data)
        if status == 403 and code == "REQUEST_LIMIT_EXCEEDED":
            wait = self.settings.salesforce_limit_pause
            self._hold(wait)
            raise CrmFailure(Outcome.retry(wait, f"salesforce: {code}"))
        if status == 429:
            wait = header_seconds(headers.get("Retry-After"), 10.0)
            self._hold(wait)
            raise CrmFailure(Outcome.retry(wait, "salesforce: rate limited"))
        if status in (401, 403):
            await self._alert_once(
                row, ALERT_CRM_CREDENTIALS.format(crm="Salesforce", why=f"{status} {code}".strip())
            )
            raise CrmFailure(Outcome.fail(f"salesforce: access refused ({status} {code})"))
        if status == 404 and code == "NOT_FOUND" and method == "PATCH":
            raise NotFound()
        error = f"salesforce: {status} {code} {message}".strip()[:200]
        if status >= 500 or status == 408:
            raise CrmFailure(Outcome.retry(self.backoff(row.attempts), error))
        raise CrmFailure(Outcome.fail(error))

    async def _send(
        self, row: RowSnapshot, method: str, url: str, **kwargs: Any
    ) -> tuple[int, Any, dict[str, str]]:
        self.calls += 1
        try:
            async with self._http().request(method, url, **kwargs) as response:
                try:
                    data = await response.json(content_type=None) if response.status != 204 else {}
                except ValueError:
                    data = {}  # a proxy's HTML page
                return response.status, data, dict(response.headers)
        except TimeoutError as exc:
            raise CrmFailure(
                Outcome.retry(max(self.backoff(row.attempts), self.timeout), "salesforce: timeout")
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise CrmFailure(
                Outcome.retry(self.backoff(row.attempts), f"salesforce: {short_error(exc)}")
            ) from exc


def _error_code(data: Any) -> str:
    """Salesforce's REST errors are a JSON array of {message, errorCode, fields}."""
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return str(data[0].get("errorCode") or "")
    return ""


def _error_message(data: Any) -> str:
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return str(data[0].get("message") or "")[:100]
    return ""
