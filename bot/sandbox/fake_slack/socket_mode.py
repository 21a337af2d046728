"""Socket Mode: apps.connections.open with an app-level token, and the WebSocket Slack pushes on.

Like Slack: the token must be an app-level one (``xapp-``; a bot token is ``not_allowed_token_type``)
and every ticket is good for one connection; a connection first gets ``hello``; each delivery is an
envelope (``events_api``, ``slash_commands``, ``interactive``) the app must ack with its
``envelope_id`` within 3 s; an envelope not acked before its connection drops is delivered again
on another connection (with ``retry_attempt`` for events); ``disconnect`` asks the app to reconnect.
Acks are matched by ``envelope_id`` on whichever connection they arrive: an app that replaced its
connection (a stale ping, a refresh) acks on the new one what it read on the old, and acks each
copy Slack delivered again. Acks that come late, more often than the envelope was delivered or for
unknown envelopes are violations, as are envelopes never acked.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from bot.sandbox.fake_slack.models import SlackError
from bot.sandbox.fake_slack.state import SlackState

ACK_LIMIT = 3.0  # seconds Slack waits for an envelope's ack
MAX_CONNECTIONS = 10  # per app, like Slack
REMEMBERED_ENVELOPES = 10_000  # how many envelopes a late or repeated ack is checked against


@dataclass
class Envelope:
    envelope_id: str
    type: str
    payload: dict[str, Any]
    retry_attempt: int = 0
    retry_reason: str = ""
    sent_at: float = 0.0
    deliveries: int = 0  # copies pushed to the app (more than one after a lost connection)
    acks_received: int = 0
    acked: asyncio.Future[dict[str, Any] | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def message(self) -> dict[str, Any]:
        return {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "payload": self.payload,
            "accepts_response_payload": self.type != "events_api",
            "retry_attempt": self.retry_attempt,
            "retry_reason": self.retry_reason,
        }


@dataclass
class Ack:
    envelope_id: str
    type: str
    seconds: float
    payload: dict[str, Any] | None


class SocketModeSide(SlackState):
    """The app-level tokens, the open sockets, the envelopes in flight and the acks received."""

    def _init_socket_mode(self) -> None:
        self.app_token = f"xapp-1-{self.app_id}-1-{secrets.token_hex(8)}"
        self._app_tokens: set[str] = {self.app_token}
        self._tickets: set[str] = set()
        self._sockets: dict[str, web.WebSocketResponse] = {}
        self._socket_order = itertools.count()
        self._in_flight: dict[str, tuple[Envelope, str]] = {}  # envelope_id -> (envelope, socket)
        self._delivered: OrderedDict[str, Envelope] = OrderedDict()  # every envelope pushed, by id
        self.acks: list[Ack] = []
        self.connections_opened = 0
        self.refuse_connections: str | None = None  # e.g. "invalid_auth": apps.connections.open says so
        self._connected = asyncio.Condition()
        self._redeliveries: set[asyncio.Future[None]] = set()

    # ------------------------------------------------------------------ setup knobs

    def revoke_app_token(self, token: str | None = None) -> None:
        self._app_tokens.discard(token or self.app_token)

    @property
    def socket_count(self) -> int:
        return len(self._sockets)

    async def wait_for_sockets(self, count: int = 1, *, within: float = 10) -> None:
        async with asyncio.timeout(within), self._connected:
            await self._connected.wait_for(lambda: len(self._sockets) >= count)

    async def disconnect_sockets(self, reason: str = "refresh_requested") -> None:
        """Slack's polite goodbye: the app is expected to open a new connection."""
        for sid, ws in list(self._sockets.items()):
            await ws.send_str(
                json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": f"fake-{sid}"}})
            )

    async def drop_sockets(self) -> None:
        """The connection vanishes without a close frame (a load balancer, a network blip)."""
        for sid, ws in list(self._sockets.items()):
            self._sockets.pop(sid, None)
            transport = ws._req.transport if ws._req is not None else None
            if transport is not None:
                transport.abort()
        for envelope, _ in list(self._in_flight.values()):
            self._redeliver_later(envelope)

    # ------------------------------------------------------------------ Web API: apps.connections.open

    def _apps_connections_open(self, token: str | None) -> dict[str, Any]:
        if not token:
            raise SlackError("not_authed")
        if token in self._tokens:
            raise SlackError("not_allowed_token_type")  # a bot token where an app token belongs
        if token not in self._app_tokens:
            raise SlackError("invalid_auth")
        if self.refuse_connections:
            raise SlackError(self.refuse_connections)
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        url = self.url.replace("http://", "ws://")
        return {"url": f"{url}link/?ticket={ticket}&app_id={self.app_id}"}

    # ------------------------------------------------------------------ the WebSocket

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)
        if len(self._sockets) >= MAX_CONNECTIONS:
            self.violations.append("socket mode: more than 10 connections opened at once")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        sid = f"s{next(self._socket_order)}"
        self.connections_opened += 1
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets) + 1,
                    "debug_info": {"host": f"fake-{sid}", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        async with self._connected:
            self._sockets[sid] = ws
            self._connected.notify_all()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._take_ack(msg.data)
        finally:
            if self._sockets.get(sid) is ws:
                del self._sockets[sid]
                for envelope, where in list(self._in_flight.values()):
                    if where == sid:
                        self._redeliver_later(envelope)
        return ws

    def _take_ack(self, raw: str) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            self.violations.append("socket mode: a message that is not JSON")
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        envelope = self._delivered.get(str(envelope_id))
        if envelope is None or envelope.acks_received >= envelope.deliveries:
            self.violations.append(f"socket mode: ack for an unknown or already acked envelope {envelope_id}")
            return
        envelope.acks_received += 1
        self._in_flight.pop(envelope.envelope_id, None)
        if envelope.acked.done():
            return  # the ack of a copy delivered again: Slack has its answer already
        seconds = time.monotonic() - envelope.sent_at
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            self.violations.append(f"socket mode: ack payload of {envelope.type} is not an object")
            payload = None
        if seconds > ACK_LIMIT:
            self.violations.append(f"socket mode: {envelope.type} acked after {seconds:.1f}s (limit 3s)")
        self.acks.append(Ack(envelope.envelope_id, envelope.type, seconds, payload))
        envelope.acked.set_result(payload)

    def _redeliver_later(self, envelope: Envelope) -> None:
        # the envelope was never acked on that connection: Slack sends it again on another one
        self._in_flight.pop(envelope.envelope_id, None)
        if not envelope.acked.done():
            task = asyncio.ensure_future(self._redeliver(envelope))
            self._redeliveries.add(task)
            task.add_done_callback(self._redeliveries.discard)

    async def _redeliver(self, envelope: Envelope) -> None:
        try:
            await self.wait_for_sockets(1, within=ACK_LIMIT * 5)
        except TimeoutError:
            return
        if envelope.acked.done():
            return  # acked on the new connection in the meantime
        if envelope.type == "events_api":
            envelope.retry_attempt += 1
            envelope.retry_reason = "timeout"
        await self._push(envelope)

    async def _push(self, envelope: Envelope) -> None:
        sid = sorted(self._sockets)[envelope.retry_attempt % len(self._sockets)]
        envelope.sent_at = time.monotonic()
        envelope.deliveries += 1
        self._in_flight[envelope.envelope_id] = (envelope, sid)
        self._delivered[envelope.envelope_id] = envelope
        if len(self._delivered) > REMEMBERED_ENVELOPES:
            self._delivered.popitem(last=False)
        await self._sockets[sid].send_str(json.dumps(envelope.message()))

    async def deliver(
        self, kind: str, payload: dict[str, Any], *, retry_attempt: int = 0, retry_reason: str = ""
    ) -> Ack | None:
        """Send one envelope on an open connection and wait for its ack (None: never acked in time,
        which Slack would treat as a failure and the app's fault)."""
        if not self._sockets:
            await self.wait_for_sockets(1)
        envelope = Envelope(
            envelope_id=str(uuid.uuid4()),
            type=kind,
            payload=payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )
        await self._push(envelope)
        try:
            await asyncio.wait_for(asyncio.shield(envelope.acked), ACK_LIMIT * 6)  # incl. redelivery
        except TimeoutError:
            self._in_flight.pop(envelope.envelope_id, None)
            self.violations.append(f"socket mode: {kind} envelope never acked")
            return None
        return next(a for a in reversed(self.acks) if a.envelope_id == envelope.envelope_id)

    async def _close_sockets(self) -> None:
        for ws in list(self._sockets.values()):
            await ws.close()
        self._sockets.clear()
