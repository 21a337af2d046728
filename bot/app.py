"""build_app(settings, ...): the Bolt app, the aiohttp server around it, and their dependencies."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import __version__
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.handlers import http_routes, register_all
from bot.handlers.registry import Registered
from bot.jobs import build_scheduler
from bot.outbox.bulk_renderer import BulkRenderer
from bot.outbox.discussion_renderer import DiscussionRenderer
from bot.outbox.lead_renderer import LeadRenderer
from bot.outbox.offer_renderer import OfferRenderer
from bot.outbox.pacing import PACER_RESERVE, TIER_LIMITS, Pacer
from bot.outbox.rendering import Renderers
from bot.outbox.sender import OutboxSender
from bot.services.context import Ctx, open_context
from bot.slack import edge
from bot.slack.authorize import single_workspace_authorize
from bot.slack.clients import SlackClients
from bot.slack.membership import ChannelMembers
from bot.storage.db import make_engine, make_session_factory, ping
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

BOT_SCOPES = [
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "users:read",
    "usergroups:read",
    "channels:read",
    "groups:read",
    "files:write",
    # the outbox reads back a message it posted but never heard back about (found by its metadata),
    # so a crash between Slack's "ok" and our record never posts the same thing twice
    "channels:history",
    "groups:history",
    "im:history",
]

WebRoute = Callable[[web.Application, "Handoff"], None]


@dataclass
class Handoff:
    """The running bot's parts. Listeners, routes and jobs see it as a bot.services.runtime.Runtime
    (through context["handoff"]); only build_app and the process around it know this class."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    clock: Clock
    clients: SlackClients
    bolt: AsyncApp
    web: web.Application
    sender: OutboxSender
    instance_id: str
    # channel member lists for Claim's membership check, remembered briefly
    channel_members: ChannelMembers
    installation_store: AsyncInstallationStore | None = None
    scheduler: Any = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    owns_engine: bool = True
    # what the handlers registered, so app.yaml (and help) can be checked against the code
    registered: Registered = field(default_factory=Registered)

    @property
    def registered_commands(self) -> list[str]:
        return self.registered.commands

    @property
    def registered_events(self) -> list[str]:
        return self.registered.events

    @property
    def registered_subcommands(self) -> dict[str, list[tuple[str, ...]]]:
        return self.registered.subcommands

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def open_context(self, team_id: str, *, now: datetime | None = None) -> AbstractAsyncContextManager[Ctx]:
        """One unit of work for a service call; queued Slack writes go out after the commit."""
        return open_context(
            self.session_factory,
            self.settings,
            team_id,
            now=now or self.clock.now(),
            after_commit=self.sender.wake,
        )

    def wake_sender(self) -> None:
        self.sender.wake()

    def run_in_background(self, work: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(work, name=name)
        self._tasks.append(task)  # close() waits for it; the reference keeps it alive
        return task

    async def default_team_id(self) -> str | None:
        return await self.clients.default_team_id()

    async def team_ids(self) -> list[str]:
        """Workspaces to run scheduled work for."""
        if self.installation_store is not None:
            async with self.uow() as uow:
                teams = await uow.installations.team_ids()
            if teams:
                return teams
        team = await self.default_team_id()
        return [team] if team else []

    async def start_background(self, *, run_sender: bool = True, run_scheduler: bool = True) -> None:
        if run_sender:
            self._tasks.append(asyncio.create_task(self.sender.run(self._stop), name="outbox-sender"))
        if run_scheduler and self.scheduler is not None:
            self.scheduler.start()

    async def close(self) -> None:
        """Graceful stop: no new scheduled work, the sender finishes its pass, the engine closes."""
        self._stop.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=15)
        for task in self._tasks:
            task.cancel()
        await self.clients.aclose()
        if self.owns_engine:
            await self.engine.dispose()


def _instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def build_app(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    clock: Clock | None = None,
    pacer: Pacer | None = None,
    with_scheduler: bool = True,
) -> Handoff:
    """Everything the bot needs, built from settings; nothing lives at module level."""
    clock = clock or SystemClock()
    owns_engine = engine is None
    engine = engine or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)

    installation_store: AsyncInstallationStore | None = None
    oauth_settings = None
    if settings.oauth_enabled:
        installation_store = AsyncSQLAlchemyInstallationStore(
            client_id=settings.slack_client_id or "", engine=engine
        )
        oauth_settings = AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.secret("slack_client_secret"),
            scopes=BOT_SCOPES,
            installation_store=installation_store,
            state_store=AsyncSQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine),
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
        )
        from bot.storage.encryption import wrap_installation_store

        installation_store = wrap_installation_store(installation_store, settings)
        oauth_settings.installation_store = installation_store

    bot_token = settings.secret("slack_bot_token") or None
    clients = SlackClients(
        base_url=settings.slack_api_url,
        bot_token=bot_token,
        installation_store=installation_store,
        timeout=settings.slack_timeout,
    )
    bolt = AsyncApp(
        # the client carries SLACK_API_URL; the token comes per request from authorization: the
        # installation store, or (single workspace) the bot token's one auth.test per process
        client=AsyncWebClient(base_url=settings.slack_api_url),
        authorize=None if oauth_settings else single_workspace_authorize(clients),
        signing_secret=settings.secret("slack_signing_secret") or "unused-in-socket-mode",
        oauth_settings=oauth_settings,
        installation_store=installation_store,
        process_before_response=True,
        # we verify at the edge (RequestVerifier): it answers 401, never 500, and logs no bodies
        request_verification_enabled=False,
        raise_error_for_unhandled_request=False,
    )
    instance_id = _instance_id()
    sender = OutboxSender(
        session_factory=session_factory,
        clients=clients,
        clock=clock,
        instance_id=instance_id,
        renderers=Renderers(
            [
                LeadRenderer(session_factory),
                DiscussionRenderer(session_factory),
                BulkRenderer(session_factory),
                OfferRenderer(session_factory),
            ]
        ),
        admins=settings.admins,
        pacer=pacer
        or Pacer(
            rate=settings.channel_rate,
            burst=settings.channel_burst,
            reserve=PACER_RESERVE,
            tiers={
                tier: (rate * settings.tier_scale, burst * settings.tier_scale)
                for tier, (rate, burst) in TIER_LIMITS.items()
            },
        ),
        lease=timedelta(seconds=settings.outbox_lease_seconds),
        call_timeout=settings.slack_timeout,
        give_up_after=timedelta(hours=settings.outbox_give_up_hours),
    )
    handoff = Handoff(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        clock=clock,
        clients=clients,
        bolt=bolt,
        web=web.Application(client_max_size=2 * 1024 * 1024),
        sender=sender,
        instance_id=instance_id,
        installation_store=installation_store,
        owns_engine=owns_engine,
        channel_members=ChannelMembers(now=clock.now),
    )

    handoff.registered = register_all(bolt, handoff)
    _routes(handoff)
    if with_scheduler:
        handoff.scheduler = build_scheduler(handoff)
    return handoff


def _routes(handoff: Handoff) -> None:
    app = handoff.web

    async def open_http_session(app: web.Application) -> None:
        # inside the running loop; closed by Handoff.close() once the outbox sender has stopped
        await handoff.clients.open_session(handoff.bolt.client)

    app.on_startup.append(open_http_session)

    edge.SlackEventsEndpoint(
        bolt=handoff.bolt, signing_secret=handoff.settings.secret("slack_signing_secret")
    ).register(app)

    async def healthz(request: web.Request) -> web.StreamResponse:
        ok = await ping(handoff.engine)
        body = {
            "status": "ok" if ok else "unavailable",
            "database": "ok" if ok else "unreachable",
            "version": __version__,
            "mode": "socket" if handoff.settings.socket_mode else "http",
            "instance": handoff.instance_id,
        }
        return web.json_response(body, status=200 if ok else 503, dumps=json.dumps)

    app.router.add_get("/healthz", healthz)
    if handoff.bolt.oauth_flow is not None:
        flow = handoff.bolt.oauth_flow

        async def install(request: web.Request) -> web.StreamResponse:
            bolt_request = AsyncBoltRequest(
                body="", query=request.query_string, headers=dict(request.headers)
            )
            return await to_aiohttp_response(await flow.handle_installation(bolt_request))

        async def oauth_redirect(request: web.Request) -> web.StreamResponse:
            bolt_request = AsyncBoltRequest(
                body="", query=request.query_string, headers=dict(request.headers)
            )
            return await to_aiohttp_response(await flow.handle_callback(bolt_request))

        app.router.add_get("/slack/install", install)
        app.router.add_get("/slack/oauth_redirect", oauth_redirect)
    http_routes.register(app, handoff)
