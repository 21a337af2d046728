"""build_app(settings, ...): the Bolt app, the aiohttp server around it, and their dependencies."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.domain.outbox import Purpose
from bot.handlers import http_routes, register_all
from bot.handlers.lost_forms import tell_of_lost_form
from bot.handlers.ops import OpsRoutes
from bot.handlers.registry import Registered
from bot.jobs import build_scheduler
from bot.logs import BOLT_LOGGER, keep_personal_data_out_of_logs
from bot.observability.readiness import Readiness
from bot.outbox.bulk_renderer import BulkRenderer
from bot.outbox.crm_delivery import CrmDeliveries, CrmRenderer, HubSpotDelivery
from bot.outbox.discussion_renderer import DiscussionRenderer
from bot.outbox.lead_renderer import LeadRenderer
from bot.outbox.offer_renderer import OfferRenderer
from bot.outbox.pacing import PACER_RESERVE, TIER_LIMITS, Pacer
from bot.outbox.rendering import Renderers
from bot.outbox.salesforce_delivery import SalesforceDelivery
from bot.outbox.sender import OutboxSender
from bot.outbox.setup_renderer import SetupRenderer
from bot.outbox.signal_renderer import SignalRenderer
from bot.outbox.webhook_delivery import WebhookDelivery, WebhookRenderer
from bot.services import admins as admin_service
from bot.services import setup_checklist, workspaces
from bot.services.context import Ctx, open_context
from bot.slack import edge
from bot.slack.authorize import single_workspace_authorize
from bot.slack.clients import SlackClients
from bot.slack.membership import ChannelMembers
from bot.slack.socket_edge import SocketModeEdge
from bot.storage.db import make_engine, make_read_engine, make_session_factory, ping
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

BOT_SCOPES = [
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "usergroups:read",
    "channels:read",
    # chat:write.public posts where the bot is not a member, but finding that post again after a
    # lost answer reads history, which needs membership: the outbox joins the public channel first
    "channels:join",
    "groups:read",
    "files:write",
    # the outbox reads back a message it posted but never heard back about (found by its metadata),
    # so a crash between Slack's "ok" and our record never posts the same thing twice
    "channels:history",
    "groups:history",
    "im:history",
]

WebRoute = Callable[[web.Application, "Handoff"], None]
WebApp = web.Application  # inside Handoff, `web` is a field


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
    # /readyz: `handoff run` sets it migrating at start and draining at SIGTERM
    readiness: Readiness = field(default_factory=Readiness)
    # /metrics on its own port when HANDOFF_METRICS_PORT is set (served by `handoff run`)
    metrics_web: WebApp | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    owns_engine: bool = True
    # reports read on connections of their own on SQLite (make_read_engine; None: the engine's)
    read_engine: AsyncEngine | None = None
    # what the handlers registered, so app.yaml (and help) can be checked against the code
    registered: Registered = field(default_factory=Registered)
    # Socket Mode's connection (None in HTTP mode); `serve` starts it
    socket_edge: SocketModeEdge | None = None
    # listeners that outlived their ack (both modes): awaited at shutdown, and by tests
    late_listeners: edge.LateListeners | None = None
    # the first-run checklist of a single-token install (see check_first_run)
    first_run: asyncio.Task[None] | None = None
    _first_run_done: bool = False
    # routing's random tie-breaks (tests set a seeded one)
    rng: Random = field(default_factory=Random)

    @property
    def socket_connected(self) -> bool | None:
        """Readiness in Socket Mode: is a socket open to Slack? None in HTTP mode."""
        return None if self.socket_edge is None else self.socket_edge.connected

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

    def read_uow(self) -> UnitOfWork:
        return UnitOfWork(self.read_session_factory)

    @functools.cached_property
    def read_session_factory(self) -> async_sessionmaker[AsyncSession]:
        return self.session_factory if self.read_engine is None else make_session_factory(self.read_engine)

    def open_context(self, team_id: str, *, now: datetime | None = None) -> AbstractAsyncContextManager[Ctx]:
        """One unit of work for a service call; queued Slack writes go out after the commit."""
        return open_context(
            self.session_factory,
            self.settings,
            team_id,
            now=now or self.clock.now(),
            after_commit=self.sender.wake,
            rng=self.rng,
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
        """Workspaces to run scheduled work for (not those uninstalled)."""
        if self.installation_store is not None:
            async with self.uow() as uow:
                teams = await uow.installations.team_ids()
            if teams:
                return teams  # an uninstalled workspace's rows are gone until it installs again
        team = await self.default_team_id()
        gone = {u.team_id for u in await self.uninstalled_workspaces()}
        return [team] if team and team not in gone else []

    async def uninstalled_workspaces(self) -> list[workspaces.Uninstalled]:
        """Workspaces uninstalled and not installed again since (by OAuth, or with a new token)."""
        async with self.uow() as uow:
            marks = await workspaces.uninstalled(uow)
            installed = set(await uow.installations.team_ids()) if self.installation_store else set()
        current = workspaces.token_mark(self.clients.bot_token)
        return [m for m in marks if m.team_id not in installed and (m.token == "oauth" or m.token == current)]

    async def workspace_uninstalled(self, team_id: str, *, enterprise_id: str | None, why: str) -> None:
        """Stop a workspace's jobs and deliveries, keep its data (app_uninstalled, tokens_revoked)."""
        oauth = self.installation_store is not None and not (
            self.clients.bot_token and team_id == await self.default_team_id()
        )
        async with self.uow() as uow:
            await workspaces.mark_uninstalled(
                uow, team_id, why=why, token=None if oauth else self.clients.bot_token, at=self.clock.now()
            )
        if oauth and self.installation_store is not None:
            await self.installation_store.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
            await self.installation_store.async_delete_installation(
                enterprise_id=enterprise_id, team_id=team_id
            )
        else:
            self.clients.forget_bot_token()
        log.warning(
            "workspace %s uninstalled (%s): its scheduled jobs and Slack deliveries stop; its data is kept",
            team_id,
            why,
        )

    def check_first_run(self) -> None:
        """A single-token install has no install event: its first admin's setup checklist is
        checked at this instance's start and, until that check could run (Slack or the database
        away), at each request; the service sends it once per workspace, across instances."""
        if self.installation_store is not None or self._first_run_done:
            return
        if setup_checklist.configured_by_environment(self.settings):
            self._first_run_done = True
            return
        if self.first_run is None or self.first_run.done():
            self.first_run = self.run_in_background(self._first_run_checklist(), name="first-run")

    async def _first_run_checklist(self) -> None:
        try:
            team = await self.default_team_id()
            if not team:
                return
            async with self.open_context(team) as ctx:
                await setup_checklist.start_without_install(ctx, instance=self.instance_id)
            self._first_run_done = True
        except Exception:
            log.exception("first-run checklist not checked; trying again at the next request")

    async def start_background(self, *, run_sender: bool = True, run_scheduler: bool = True) -> None:
        self.check_first_run()
        if run_sender:
            self._tasks.append(asyncio.create_task(self.sender.run(self._stop), name="outbox-sender"))
        if run_scheduler and self.scheduler is not None:
            self.scheduler.start()

    async def close(self) -> None:
        """Graceful stop: no new scheduled work, the sender finishes its pass, the engine closes."""
        if self.socket_edge is not None:
            await self.socket_edge.close()
        self._stop.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=15)
        for task in self._tasks:
            task.cancel()
        await self.clients.aclose()
        for other in self.sender.delivery.others.values():
            await other.aclose()
        if self.read_engine is not None:  # its own even when the engine was passed in
            await self.read_engine.dispose()
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
    engine = engine or make_engine(settings.database_url, pool_size=settings.database_pool_size)
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
            callback_options=AsyncCallbackOptions(
                success=_first_admin_on_install(session_factory, settings, clock),
                failure=lambda args: args.default.failure(args),
            ),
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
    keep_personal_data_out_of_logs()
    bolt = AsyncApp(
        name="handoff",
        logger=logging.getLogger(BOLT_LOGGER),  # carries the filter that keeps bodies out of logs
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
                LeadRenderer(
                    session_factory,
                    crm=settings.hubspot_access_token is not None
                    or settings.salesforce_client_id is not None,
                ),
                DiscussionRenderer(session_factory),
                SetupRenderer(session_factory, settings),
                BulkRenderer(session_factory),
                OfferRenderer(session_factory),
                WebhookRenderer(session_factory, settings, clock),
                CrmRenderer(session_factory, settings),
                SignalRenderer(session_factory),
            ]
        ),
        admins=settings.admins,
        pacer=pacer
        or Pacer(
            rate=settings.channel_rate,
            burst=settings.channel_burst,
            reserve=PACER_RESERVE,
            bulk_share=settings.bulk_tier_share,
            tiers={
                tier: (rate * settings.tier_scale, burst * settings.tier_scale)
                for tier, (rate, burst) in TIER_LIMITS.items()
            },
        ),
        lease=timedelta(seconds=settings.outbox_lease_seconds),
        call_timeout=settings.slack_timeout,
        give_up_after=timedelta(hours=settings.outbox_give_up_hours),
    )
    # outbound events go through the same outbox, but over plain HTTP, paced per endpoint host
    sender.delivery.others[Purpose.WEBHOOK] = WebhookDelivery(
        session_factory=session_factory,
        settings=settings,
        clock=clock,
        pacer=sender.pacer,
        backoff=sender.backoff,
    )
    # CRM syncs too, each to its CRM's REST API, paced per CRM
    crms: dict[str, Any] = {}
    crm_parts: dict[str, Any] = {
        "session_factory": session_factory,
        "settings": settings,
        "clock": clock,
        "pacer": sender.pacer,
        "backoff": sender.backoff,
        "clients": clients,
    }
    if settings.hubspot_access_token is not None:
        crms["hubspot"] = HubSpotDelivery(**crm_parts)
    if settings.salesforce_client_id is not None:
        crms["salesforce"] = SalesforceDelivery(**crm_parts)
    if crms:
        sender.delivery.others[Purpose.CRM_SYNC] = CrmDeliveries(crms)
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
        read_engine=make_read_engine(engine.url.render_as_string(hide_password=False)),
        channel_members=ChannelMembers(now=clock.now),
    )

    # the first-run check runs in the background: the request does not wait for it
    handoff.registered = register_all(bolt, handoff, on_request=handoff.check_first_run)
    # one ack discipline for HTTP and Socket Mode; late answers only to Slack (or the fake) hosts
    dispatcher = edge.AckDispatcher(
        bolt,
        api_url=settings.slack_api_url,
        on_lost_form=functools.partial(tell_of_lost_form, handoff),
    )
    handoff.late_listeners = dispatcher.late
    if settings.socket_mode:
        handoff.socket_edge = SocketModeEdge(
            bolt=bolt,
            dispatcher=dispatcher,
            app_token=settings.secret("slack_app_token"),
            api_url=settings.slack_api_url,
        )
    _routes(handoff, dispatcher)
    if with_scheduler:
        handoff.scheduler = build_scheduler(handoff)
    return handoff


def _first_admin_on_install(
    session_factory: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> Callable[[AsyncSuccessArgs], Awaitable[BoltResponse]]:
    """After Bolt has stored an installation: its installer becomes the workspace's first admin."""

    async def on_installed(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        if installation.team_id and installation.user_id:
            try:
                async with open_context(
                    session_factory, settings, installation.team_id, now=clock.now()
                ) as ctx:
                    await admin_service.installed_by(ctx, installation.user_id)
                    await setup_checklist.start(ctx, installation.user_id)
            except Exception:  # the install itself succeeded; admins can still come from HANDOFF_ADMINS
                log.exception("could not make the installer of %s its first admin", installation.team_id)
        return await args.default.success(args)

    return on_installed


def _routes(handoff: Handoff, dispatcher: edge.AckDispatcher) -> None:
    app = handoff.web

    async def open_http_session(app: web.Application) -> None:
        # inside the running loop; closed by Handoff.close() once the outbox sender has stopped
        await handoff.clients.open_session(handoff.bolt.client)

    app.on_startup.append(open_http_session)

    edge.SlackEventsEndpoint(
        bolt=handoff.bolt,
        signing_secret=handoff.settings.secret("slack_signing_secret"),
        dispatcher=dispatcher,
    ).register(app)

    async def healthz(request: web.Request) -> web.StreamResponse:
        # anyone can ask: liveness only; which host, version and mode answer is for admins
        # (`/handoff status`)
        ok = await ping(handoff.engine)
        body = {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unreachable"}
        if handoff.socket_connected is not None:
            body["socket"] = "connected" if handoff.socket_connected else "not connected"
        return web.json_response(body, status=200 if ok else 503, dumps=json.dumps)

    app.router.add_get("/healthz", healthz)
    ops = OpsRoutes(
        engine=handoff.engine,
        clock=handoff.clock,
        readiness=handoff.readiness,
        metrics_token=handoff.settings.secret("metrics_token"),
        socket_connected=lambda: handoff.socket_connected,
    )
    separate = handoff.settings.metrics_port is not None
    ops.register(app, with_metrics=not separate)
    if separate:
        handoff.metrics_web = web.Application()
        ops.register_metrics(handoff.metrics_web)
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
