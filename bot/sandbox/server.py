"""The local sandbox: the real bot, the fake Slack it talks to, and a page to use it in a browser.

Three aiohttp servers on 127.0.0.1: FakeSlack (the Web API the bot calls), the bot itself in HTTP
mode (built by build_app, unchanged), and this page with a small JSON API. The page never talks to
the bot directly: every command, click and submission goes through SlackDriver as a signed request,
exactly as Slack would send it, and everything shown is read back from the fake's state.

Any web page the browser has open can send requests to 127.0.0.1 too, so the page's server answers
only its own page (see `Sandbox.refusal`): the Host it was started as (a DNS-rebound name is refused),
no other Origin or site, JSON bodies only, and a token born with this start that only the served page
carries.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import mimetypes
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from bot.app import Handoff, build_app
from bot.config import Settings
from bot.domain import untrusted
from bot.outbox.pacing import Pacer
from bot.sandbox.driver import Reply, SlackDriver
from bot.sandbox.fake_crm import FakeHubSpot, FakeSalesforce
from bot.sandbox.fake_slack import Ephemeral, FakeSlack, Message
from bot.storage.migrate import migrate

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///handoff-sandbox.db"
TEAM_ID = "T0SANDBOX"
TEAM_NAME = "Handoff Sandbox"
SAVE_EVERY = 2.0  # seconds between snapshots of the fake Slack, when something changed
# Images the page may show inline; anything else (SVG can carry script) is served as a download.
INLINE_IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
TOKEN_HEADER = "X-Handoff-Sandbox-Token"  # a custom header also forces a CORS preflight nobody answers
TOKEN_PLACEHOLDER = "{{SANDBOX_TOKEN}}"  # in static/index.html
SAME_SITE = frozenset({"same-origin", "none"})  # Sec-Fetch-Site of the page itself or a typed URL


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    real_name: str
    role: str
    is_admin: bool = False


MARKETER = Person("U0MARKETER", "maria", "Maria Marketer", "Marketing")
REP1 = Person("U0REP1", "rob", "Rob Rep", "Sales rep")
REP2 = Person("U0REP2", "rita", "Rita Rep", "Sales rep")
ADMIN = Person("U0ADMIN", "ada", "Ada Admin", "Admin", is_admin=True)
PEOPLE = (MARKETER, REP1, REP2, ADMIN)
SALES, MARKETING, PARTNERSHIP = "C0SALES", "C0MARKETING", "C0PARTNER"
CHANNELS = (
    (SALES, "sales", (REP1, REP2, ADMIN)),
    (MARKETING, "marketing", (MARKETER, ADMIN)),
    (PARTNERSHIP, "partnership", PEOPLE),
)


def populate(fake: FakeSlack) -> None:
    """The sandbox workspace: a marketer, two reps and an admin in #sales, #marketing, #partnership."""
    for p in PEOPLE:
        fake.add_user(p.id, name=p.name, real_name=p.real_name, is_admin=p.is_admin)
    for cid, name, members in CHANNELS:
        fake.add_channel(cid, name=name, members=[p.id for p in members])


def sandbox_database_url(settings: Settings) -> str:
    """DATABASE_URL when it was set explicitly; otherwise a file of its own, never handoff.db,
    so demo data and a real deployment's data are not mixed."""
    return settings.database_url if "database_url" in settings.model_fields_set else DEFAULT_DATABASE_URL


def state_path_for(database_url: str) -> Path:
    """Where the fake Slack's messages are kept between runs: next to a SQLite file, else in cwd."""
    if database_url.startswith("sqlite+aiosqlite:///") and ":memory:" not in database_url:
        db = Path(database_url[len("sqlite+aiosqlite:///") :])
        return db.with_name(db.stem + ".slack.json")
    return Path("handoff-sandbox.slack.json")


def bot_settings(
    base: Settings,
    *,
    fake: FakeSlack,
    signing_secret: str,
    port: int,
    hubspot: FakeHubSpot | None = None,
    salesforce: FakeSalesforce | None = None,
) -> Settings:
    """The operator's settings, pointed at the fake Slack (and the fake CRMs: a sandbox never writes
    to a real CRM): single workspace, HTTP mode, local only."""
    crms: dict[str, Any] = {}
    if hubspot is not None:
        crms.update(hubspot_access_token=SecretStr(hubspot.token), hubspot_api_url=hubspot.base_url)
    if salesforce is not None:
        crms.update(
            salesforce_login_url=salesforce.base_url,
            salesforce_client_id=salesforce.client_id,
            salesforce_client_secret=SecretStr(salesforce.client_secret),
        )
    return base.model_copy(
        update={
            **crms,
            "slack_bot_token": SecretStr(fake.bot_token),
            "slack_signing_secret": SecretStr(signing_secret),
            "slack_app_token": None,  # HTTP mode: the sandbox sends the requests
            "slack_client_id": None,
            "slack_client_secret": None,
            "slack_api_url": fake.base_url,
            "database_url": sandbox_database_url(base),
            "host": "127.0.0.1",
            "port": port,
            "intake_token": base.intake_token or SecretStr(secrets.token_urlsafe(32)),
            "sales_channel": base.sales_channel or SALES,
            "marketing_channel": base.marketing_channel or MARKETING,
            "partnership_channel": base.partnership_channel or PARTNERSHIP,
            "admins": base.admins or (ADMIN.id,),
        }
    )


async def forget_team(handoff: Handoff, team_id: str) -> None:
    """Delete one workspace's rows from every table (children first); other teams are untouched."""
    from sqlalchemy import delete

    from bot.storage.models import Base

    async with handoff.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if "team_id" in table.c:
                await conn.execute(delete(table).where(table.c.team_id == team_id))


class ActionError(Exception):
    """A request from the page that Slack's client would refuse (unknown user, no such command)."""


class Sandbox:
    """Start with `await Sandbox(settings=...).start()`; `.url` is the page."""

    def __init__(
        self,
        *,
        settings: Settings,
        port: int = 3000,
        bot_port: int = 0,
        state_path: Path | None = None,
        keep_state: bool = True,
    ) -> None:
        self.base_settings = settings
        self.port = port
        self.bot_port = bot_port
        self.fake = FakeSlack(
            team_id=TEAM_ID, team_name=TEAM_NAME, bot_token="xoxb-sandbox-" + secrets.token_hex(8)
        )
        populate(self.fake)
        # the CRMs the sync writes to, shown in the page's CRM panel (kept in memory: empty at start)
        self.hubspot = FakeHubSpot()
        self.salesforce = FakeSalesforce()
        for person in (REP1, REP2, ADMIN):
            email = f"{person.name}@example.com"  # the fake Slack's profile email
            first, _, last = person.real_name.partition(" ")
            self.hubspot.add_owner(email, first, last)
            self.salesforce.add_user(email, person.real_name)
        self.database_url = sandbox_database_url(settings)
        self.state_path = state_path if state_path is not None else state_path_for(self.database_url)
        self.keep_state = keep_state
        self.handoff: Handoff | None = None
        self.driver: SlackDriver | None = None
        self.bot_url = ""
        self._runners: list[web.AppRunner] = []
        self._page_port: int | None = None
        self._saver: asyncio.Task[None] | None = None
        self._saved_fingerprint = ""
        self.seeded: bool | None = None  # None: no seed asked for
        # what the served page carries in every API call; another origin cannot read it
        self.api_token = secrets.token_urlsafe(32)
        self._hosts: frozenset[str] = frozenset()
        self._origins: frozenset[str] = frozenset()
        self._index_html = ""

    # ------------------------------------------------------------------ lifecycle

    async def start(self, *, seed: Any = None, reset: bool = False) -> Sandbox:
        """Start everything. `seed(handoff, team_id) -> bool` runs after migrations and before the
        first request (it decides itself whether to write anything); `reset` forgets the sandbox
        workspace first."""
        try:
            await self._start(seed, reset)
        except BaseException:
            await self.stop(save=False)
            raise
        return self

    async def _start(self, seed: Any, reset: bool) -> None:
        await self.fake.start("127.0.0.1", 0)
        if reset and self.state_path.exists():
            self.state_path.unlink()
        if self.keep_state and self.state_path.exists():
            try:
                self.fake.restore(json.loads(self.state_path.read_text()))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("ignoring sandbox state in %s: %s", self.state_path, exc)
        await self.hubspot.start()
        await self.salesforce.start()
        signing_secret = secrets.token_hex(16)
        settings = bot_settings(
            self.base_settings,
            fake=self.fake,
            signing_secret=signing_secret,
            port=self.bot_port,
            hubspot=self.hubspot,
            salesforce=self.salesforce,
        )
        # a person clicking around sends bursts a real channel would pace; keep the page snappy
        self.handoff = build_app(settings, pacer=Pacer(rate=20, burst=50))
        await migrate(self.handoff.engine)
        if reset:
            await forget_team(self.handoff, TEAM_ID)
        bot_runner = web.AppRunner(self.handoff.web, access_log=None, shutdown_timeout=2)
        await bot_runner.setup()
        site = web.TCPSite(bot_runner, "127.0.0.1", self.bot_port)
        await site.start()
        self._runners.append(bot_runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.handoff.settings = self.handoff.settings.model_copy(update={"port": port})
        self.bot_url = f"http://127.0.0.1:{port}"
        self.driver = SlackDriver(
            fake=self.fake, bot_url=f"{self.bot_url}/slack/events", signing_secret=signing_secret
        )
        if seed is not None:
            self.seeded = await seed(self.handoff, TEAM_ID)
        await self.handoff.start_background()
        page_runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=2)
        await page_runner.setup()
        page_site = web.TCPSite(page_runner, "127.0.0.1", self.port)
        await page_site.start()
        self._runners.append(page_runner)
        self._page_port = page_site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        names = ("127.0.0.1", "localhost")
        self._hosts = frozenset(
            [f"{name}:{self._page_port}" for name in names] + (list(names) if self._page_port == 80 else [])
        )
        self._origins = frozenset(f"http://{host}" for host in self._hosts)
        if self.keep_state:
            self._saver = asyncio.create_task(self._save_loop(), name="sandbox-save")

    async def stop(self, *, save: bool = True) -> None:
        if self._saver is not None:
            self._saver.cancel()
            await asyncio.gather(self._saver, return_exceptions=True)
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        if self.driver is not None:
            await self.driver.aclose()
        if self.handoff is not None:
            await self.handoff.close()
            self.handoff = None
        if self.keep_state and save:
            self.save()
        await self.fake.stop()
        await self.hubspot.stop()
        await self.salesforce.stop()

    @property
    def url(self) -> str:
        if self._page_port is None:
            raise RuntimeError("sandbox is not started")
        return f"http://127.0.0.1:{self._page_port}/"

    @property
    def page_port(self) -> int:
        if self._page_port is None:
            raise RuntimeError("sandbox is not started")
        return self._page_port

    def save(self) -> None:
        snap = json.dumps(self.fake.snapshot())
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(snap)
        tmp.replace(self.state_path)
        self._saved_fingerprint = self._fingerprint()

    def _fingerprint(self) -> str:
        f = self.fake
        parts = [f"{len(f.calls)}", f"{len(f.ephemeral_messages)}", f"{len(f.responses)}"]
        parts += [f"{m.ts}:{len(m.edits)}:{m.reply_count}" for m in f.all_messages()[-3:]]
        return "|".join(parts)

    async def _save_loop(self) -> None:
        while True:
            await asyncio.sleep(SAVE_EVERY)
            if self._fingerprint() != self._saved_fingerprint:
                try:
                    self.save()
                except OSError as exc:
                    log.warning("could not save sandbox state: %s", exc)

    # ------------------------------------------------------------------ the page's JSON API

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=256 * 1024, middlewares=[self._guard])
        self._index_html = (STATIC / "index.html").read_text().replace(TOKEN_PLACEHOLDER, self.api_token)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC, show_index=False)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/files/{file_id}", self._file)
        app.router.add_post("/api/{action}", self._action)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        refused = self.refusal(request)
        if refused is not None:
            status, error = refused
            log.warning("sandbox page: refused %s %r: %s", request.method, request.path[:200], error)
            return web.json_response({"ok": False, "error": error}, status=status, headers=_SECURITY_HEADERS)
        return await handler(request)

    def refusal(self, request: web.Request) -> tuple[int, str] | None:
        """Why a request does not come from this sandbox's own page, or None when it does."""
        if request.headers.get("Host", "").lower() not in self._hosts:
            # DNS rebinding: another name resolved to 127.0.0.1 makes its page "same-origin"
            return 421, f"this sandbox answers only at {self.url}"
        if not request.path.startswith(("/api/", "/files/")):
            return None  # the page and its static files: nothing secret, nothing changes
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() not in self._origins:
            return 403, "cross-origin request refused"
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site.lower() not in SAME_SITE:
            return 403, "cross-site request refused"
        if request.path.startswith("/api/"):
            token = request.headers.get(TOKEN_HEADER, "").encode("utf-8", "replace")
            if not secrets.compare_digest(token, self.api_token.encode()):
                return 403, "missing or wrong sandbox token: reload the page"
            if request.method not in ("GET", "HEAD") and request.content_type != "application/json":
                return 415, "expected Content-Type: application/json"
        return None

    async def _index(self, request: web.Request) -> web.StreamResponse:
        # the token goes into the HTML (inline script is not allowed by the CSP); never cached, since
        # the next start has another
        return web.Response(
            text=self._index_html,
            content_type="text/html",
            headers={**_SECURITY_HEADERS, "Cache-Control": "no-store"},
        )

    async def _state(self, request: web.Request) -> web.StreamResponse:
        user = request.query.get("user") or MARKETER.id
        if user not in self.fake.users or user == self.fake.bot_user_id:
            return web.json_response({"error": f"unknown user {user!r}"}, status=400)
        body = json.dumps(self.state_for(user), sort_keys=True, default=str)
        etag = '"' + hashlib.sha1(body.encode()).hexdigest() + '"'
        headers = {"ETag": etag, "Cache-Control": "no-cache", **_SECURITY_HEADERS}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        return web.Response(text=body, content_type="application/json", headers=headers)

    def state_for(self, user_id: str) -> dict[str, Any]:
        """Everything the user can see right now, as plain JSON for the page."""
        fake = self.fake
        im = fake.im_channel(user_id)
        channels = [
            {
                "id": ch.id,
                "name": ch.name,
                "is_member": user_id in ch.members,
                "kind": "im" if ch.is_im else "channel",
            }
            for ch in fake.channels.values()
            if not ch.is_im
        ]
        channels.append({"id": im, "name": "Handoff", "is_member": True, "kind": "im"})
        messages = [
            self._message(m)
            for cid in [str(c["id"]) for c in channels]
            for m in fake.messages(cid, include_threads=True)
        ]
        messages += [
            self._ephemeral(e) for e in fake.ephemerals(user_id) if e.channel in {c["id"] for c in channels}
        ]
        view = fake.open_view(user_id)
        modal = None
        if view is not None:
            modal = {
                "view": view,
                "errors": fake.view_errors(view["id"]) or {},
                "depth": len(fake.view_stack(user_id)),
            }
        handoff = self.handoff
        from bot.jobs import JOBS

        return {
            "team": {"id": fake.team_id, "name": fake.team_name},
            "me": user_id,
            "bot_user_id": fake.bot_user_id,
            "users": [{"id": p.id, "name": p.name, "real_name": p.real_name, "role": p.role} for p in PEOPLE]
            + [{"id": fake.bot_user_id, "name": "handoff", "real_name": "Handoff", "role": "App"}],
            "channels": channels,
            "messages": sorted(messages, key=lambda m: float(m["ts"])),
            "home": fake.home(user_id),
            "modal": modal,
            "commands": sorted(handoff.registered_commands) if handoff else [],
            "events": sorted(handoff.registered_events) if handoff else [],
            "jobs": [job.name for job in JOBS],
            "bot_url": self.bot_url,
            "crm": self.crm_state(),
        }

    def crm_state(self) -> list[dict[str, Any]]:
        """What the sync wrote to each fake CRM: its records, newest first, with their notes/Tasks."""
        hubspot = [
            {
                "id": contact_id,
                "title": props.get("email", ""),
                "fields": {k: str(v) for k, v in sorted(props.items()) if k != "email"},
                "activities": self.hubspot.notes_of(contact_id),
            }
            for contact_id, props in reversed(self.hubspot.contacts.items())
        ]
        salesforce = [
            {
                "id": lead_id,
                "title": str(fields.get("Email", "")),
                "fields": {k: str(v) for k, v in sorted(fields.items()) if k != "Email"},
                "activities": [str(t.get("Subject", "")) for t in self.salesforce.tasks_of(lead_id)],
            }
            for lead_id, fields in reversed(self.salesforce.leads.items())
        ]
        return [
            {"crm": "HubSpot", "kind": "contacts", "records": hubspot[:20], "count": len(hubspot)},
            {"crm": "Salesforce", "kind": "Leads", "records": salesforce[:20], "count": len(salesforce)},
        ]

    def _message(self, m: Message) -> dict[str, Any]:
        d = m.to_dict()
        return {
            "channel": m.channel,
            "ts": m.ts,
            "thread_ts": m.thread_ts,
            "is_reply": m.is_reply,
            "user": m.user,
            "is_bot": m.bot_id is not None,
            "text": m.text,
            "blocks": m.blocks,
            "mrkdwn": d.get("mrkdwn", True),
            "files": [
                {**f, "url": f"/files/{f['id']}", "is_image": self._inline_type(f.get("name")) is not None}
                for f in m.files
            ],
            "reply_count": m.reply_count,
            "edited": bool(m.edited),
            "ephemeral": False,
        }

    @staticmethod
    def _ephemeral(e: Ephemeral) -> dict[str, Any]:
        return {
            "channel": e.channel,
            "ts": e.ts,
            "thread_ts": e.thread_ts,
            "is_reply": bool(e.thread_ts),
            "user": None,
            "is_bot": True,
            "text": e.text,
            "blocks": e.blocks,
            "mrkdwn": True,
            "files": [],
            "reply_count": 0,
            "edited": False,
            "ephemeral": True,
        }

    @staticmethod
    def _inline_type(filename: str | None) -> str | None:
        kind = mimetypes.guess_type(filename or "")[0]
        return kind if kind in INLINE_IMAGES else None

    async def _file(self, request: web.Request) -> web.StreamResponse:
        up = self.fake.uploaded.get(request.match_info["file_id"])
        if up is None or not up.completed or up.content is None:
            return web.Response(status=404, text="no such file")
        kind = self._inline_type(up.filename)
        headers = dict(_SECURITY_HEADERS)
        if kind is None:
            kind = "application/octet-stream"
            safe = "".join(c for c in up.filename if c.isalnum() or c in "._-") or "file"
            headers["Content-Disposition"] = f'attachment; filename="{safe}"'
        return web.Response(body=up.content, content_type=kind, headers=headers)

    async def _action(self, request: web.Request) -> web.StreamResponse:
        action = request.match_info["action"]
        handler = {
            "command": self.command,
            "message": self.post_message,
            "click": self.click,
            "select": self.select,
            "submit": self.submit,
            "close": self.close,
            "open": self.open_tab,
            "job": self.run_job,
        }.get(action)
        if handler is None:
            return web.json_response({"ok": False, "error": f"no action {action!r}"}, status=404)
        try:
            body = untrusted.loads(await request.read())
        except ValueError:  # not JSON, not UTF-8, nested too deep, a 5,000-digit number
            return web.json_response({"ok": False, "error": "expected a JSON body"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"ok": False, "error": "expected a JSON object"}, status=400)
        try:
            user = self._user(body.get("user"))
            result = await handler(user, body)
        except (ActionError, AssertionError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response({"ok": True, **result})

    def _user(self, user: Any) -> str:
        if not isinstance(user, str) or user not in self.fake.users or user == self.fake.bot_user_id:
            raise ActionError(f"unknown user {user!r}")
        return user

    def _channel(self, user: str, channel: Any) -> str:
        if not isinstance(channel, str) or channel not in self.fake.channels:
            raise ActionError(f"unknown channel {channel!r}")
        ch = self.fake.channels[channel]
        if ch.is_im and ch.user != user:
            raise ActionError("that is someone else's direct message")
        return channel

    @property
    def _driver(self) -> SlackDriver:
        assert self.driver is not None, "sandbox is not started"
        return self.driver

    @staticmethod
    def _outcome(reply: Reply, what: str) -> dict[str, Any]:
        """Slack's wording when the app does not answer a request properly."""
        if reply.ok:
            return {"status": reply.status}
        raise ActionError(f'{what} failed with the error "http_error_{reply.status}"')

    async def command(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(user, body.get("channel"))
        text = str(body.get("text") or "").strip()
        name, _, args = text.partition(" ")
        if not name.startswith("/"):
            raise ActionError("a slash command starts with /")
        handoff = self.handoff
        if handoff is None or name not in handoff.registered_commands:
            raise ActionError(
                f"{name} is not a valid command. In Slack, all messages that start with “/” are interpreted as commands."
            )
        reply = await self._driver.command(user, name, args.strip(), channel_id=channel)
        return self._outcome(reply, name)

    async def post_message(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(user, body.get("channel"))
        text = str(body.get("text") or "")
        if not text.strip():
            raise ActionError("nothing to send")
        if len(text) > 4000:
            raise ActionError("message too long")
        thread_ts = body.get("thread_ts") or None
        if thread_ts is not None and self.fake.message(channel, str(thread_ts)) is None:
            raise ActionError("no such thread")
        if self.handoff is not None and "message" in self.handoff.registered_events:
            reply = await self._driver.message(user, channel, text, thread_ts=thread_ts)
            return self._outcome(reply, "message event")
        # Slack only sends the events an app subscribed to; this bot listens to none for messages
        msg = self.fake.post_as_user(channel, user, text, thread_ts=thread_ts)
        return {"ts": msg.ts}

    def _where(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        container = body.get("container") or {}
        kind = container.get("type")
        if kind == "home":
            return {"home": True}
        if kind == "view":
            return {"view_user": user}
        if kind == "message":
            return {
                "channel_id": self._channel(user, container.get("channel")),
                "message_ts": str(container.get("ts") or ""),
            }
        raise ActionError("unknown container")

    async def click(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = await self._driver.click(
            user,
            str(body.get("text") or ""),
            action_id=body.get("action_id"),
            block_id=body.get("block_id"),
            **self._where(user, body),
        )
        return self._outcome(reply, "button")

    async def select(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = await self._driver.select(
            user,
            str(body.get("value") or ""),
            action_id=body.get("action_id"),
            block_id=body.get("block_id"),
            **self._where(user, body),
        )
        return self._outcome(reply, "menu")

    async def submit(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        view_id = body.get("view_id")
        if not isinstance(view_id, str) or self.fake.view(view_id) is None:
            raise ActionError("that form is no longer open")
        values = body.get("values") or {}
        if not isinstance(values, dict):
            raise ActionError("values must be an object")
        reply = await self._driver.submit(user, values, view_id=view_id, by_block_id=True)
        if not reply.ok:
            # Slack keeps the modal open and says so
            raise ActionError("We had some trouble connecting. Try again?")
        return {"errors": reply.errors or {}}

    async def close(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.fake.open_view(user) is None:
            return {}
        view_id = body.get("view_id")
        await self._driver.close(user, view_id=view_id if isinstance(view_id, str) else None)
        return {}

    async def open_tab(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        """The person opens the app's Home or Messages tab: Slack sends app_home_opened if subscribed."""
        tab = body.get("tab")
        if tab not in ("home", "messages"):
            raise ActionError("tab must be home or messages")
        if self.handoff is None or "app_home_opened" not in self.handoff.registered_events:
            return {"sent": False}
        reply = await self._driver.app_home_opened(user, tab=tab)
        return {"sent": True, **self._outcome(reply, "app_home_opened")}

    async def run_job(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        """Run a scheduled job now (what the schedule would do at its next slot)."""
        from bot.jobs import JOBS, run_job

        job = next((j for j in JOBS if j.name == body.get("name")), None)
        if job is None or self.handoff is None:
            raise ActionError(f"no job {body.get('name')!r}")
        await run_job(self.handoff, job)
        return {}


_SECURITY_HEADERS = {
    # the page needs nothing from elsewhere; inline script and styles are not used
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: http: https:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
