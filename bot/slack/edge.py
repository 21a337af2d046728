"""The /slack/events edge around Bolt: SlackEventsEndpoint owns the HTTP side of every Slack request.

In order: a size limit (413), the signature (401, never a 500; RequestVerifier), the payload's shape
(400 for anything signed but not shaped like Slack's: Bolt would fail with a 500), then Bolt,
watched by the 3-second ack deadline; a listener failure on a command or interaction becomes a 200
and an apology through response_url, while an event's failure stays a 5xx so that Slack retries it.
Duplicate Events API deliveries are not the edge's business: a Bolt middleware skips them, so
Socket Mode gets the same (bot/handlers/idempotency.py).

Slack gives up on any request (command, click, view submission, event) not answered within 3 s.
Handlers ack first and keep slow Slack calls in the outbox, but a slow database or Slack could
still hold a response back (process_before_response=True answers when the listener returns), so
the edge answers an empty 200 at ACK_DEADLINE and lets the listener finish in the background.
A modal submitted then is closed by Slack; if its listener found errors, they go to the person
by DM with what they typed (`on_lost_form`), so nothing they entered is lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.domain import untrusted
from bot.observability import metrics
from bot.observability.logs import log_context
from bot.slack.form_body import form_fields
from bot.slack.payloads import event_key
from bot.slack.response_urls import host_of, response_url_allowed
from bot.slack.signature import RequestVerifier

log = logging.getLogger(__name__)

ACK_DEADLINE = 2.5  # seconds; Slack's limit is 3
MAX_SLACK_BODY = 1024 * 1024  # Slack's payloads are far smaller; anything bigger is not Slack
# Bolt's lazy listeners trust these headers; from outside they are forgeries.
BOLT_INTERNAL_HEADERS = ("x-slack-bolt-lazy-only", "x-slack-bolt-lazy-function-name")


_DICT_FIELDS = (
    "user",
    "container",
    "message",
    "previous_message",
    "item",
    "view",
    "state",
    "channel",
    "team",
    "enterprise",
    "function_data",
)


def read_body(body: bytes, content_type: str) -> tuple[dict[str, Any], str | None]:
    """The body as Bolt reads it (an event, a command's fields, an interaction's payload) and why a
    signed request is not shaped like anything Slack sends (None when it is). Bolt assumes Slack's
    shapes and fails with a 500 on others; the edge answers 400 instead."""
    if "json" in content_type:
        try:
            payload = untrusted.loads(body)
        except (ValueError, UnicodeDecodeError):
            return {}, "body is not JSON"
        return (payload, _event_problem(payload)) if isinstance(payload, dict) else ({}, "no payload type")
    try:
        form = form_fields(body)
    except (ValueError, UnicodeDecodeError):
        return {}, "form body is not UTF-8"
    if "payload" not in form:
        return form, None  # slash commands: every field is a string
    try:
        payload = untrusted.loads(form["payload"])
    except ValueError:
        return {}, "payload is not JSON"
    return (payload, _interaction_problem(payload)) if isinstance(payload, dict) else ({}, "no payload type")


def payload_problem(payload: dict[str, Any], *, is_event_body: bool) -> str | None:
    """Why a parsed body (or a Socket Mode envelope's payload) is not shaped like Slack's; None if it is."""
    return _event_problem(payload) if is_event_body else _interaction_problem(payload)


def _event_problem(payload: dict[str, Any]) -> str | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return "no payload type"
    if payload["type"] == "event_callback":
        event = payload.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "event_callback without an event type"
        for name in ("message", "previous_message", "item", "assistant_thread"):
            if event.get(name) is not None and not isinstance(event[name], dict):
                return f"event {name} is not an object"
    authorizations = payload.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        return "authorizations is not a list of objects"
    return None


def _interaction_problem(payload: dict[str, Any]) -> str | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return "no payload type"
    for name in _DICT_FIELDS:
        if payload.get(name) is not None and not isinstance(payload[name], dict):
            return f"{name} is not an object"
    view = payload.get("view") or {}
    if payload["type"].startswith("view_") and not (
        isinstance(view.get("type"), str) and isinstance(view.get("callback_id"), str)
    ):
        return "view submission without a view type and callback_id"
    if view.get("state") is not None and not isinstance((view.get("state") or {}).get("values", {}), dict):
        return "view state is not an object"
    actions = payload.get("actions")
    if payload["type"] == "block_actions" and not actions:
        return "block_actions without actions"
    if actions is not None and not (
        isinstance(actions, list)
        and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
    ):
        return "actions is not a list of actions"
    return None


def is_ssl_check(body: bytes, content_type: str) -> bool:
    """Slack's `ssl_check=1` form POST, sent unsigned to test a slash command's URL certificate."""
    if "json" in content_type or b"ssl_check=1" not in body:
        return False
    return parse_qs(body.decode("utf-8", errors="replace")).get("ssl_check") == ["1"]


def describe(parsed: dict[str, Any], *, is_event_body: bool) -> tuple[str, str | None]:
    """(label for logs, response_url) of a body read_body parsed, or of a Socket Mode payload."""
    if is_event_body:
        return "event", None
    url = parsed.get("response_url")
    url = url if isinstance(url, str) and url else None
    if "command" in parsed:
        return f"command {str(parsed['command'])[:40]}", url
    return str(parsed.get("type") or "interaction")[:40], url


def _team_of(parsed: dict[str, Any]) -> str | None:
    nested = parsed.get("team")
    team = parsed.get("team_id") or (nested.get("id") if isinstance(nested, dict) else None)
    return team if isinstance(team, str) and team.isalnum() and len(team) <= 32 else None


def parsed_bolt_request(
    raw_body: str, body: dict[str, Any], *, query: str, headers: dict[str, str | Sequence[str]]
) -> AsyncBoltRequest:
    """Bolt's request for a body the edge has parsed already. Bolt would URL-decode it a second
    time: a click's payload carries the whole message back, and decoding it took 0.4 ms."""
    request = AsyncBoltRequest(body="", query=query, headers=headers)
    request.raw_body = raw_body
    request.body = body
    request.context = build_async_context(AsyncBoltContext({}), body)
    return request


# (the view_submission's body, its listener's field errors): told to the person another way
LostForm = Callable[[dict[str, Any], dict[str, str]], Awaitable[None]]


class LateListeners:
    """Listeners that outlived their ack: kept referenced, logged when they fail, awaited at shutdown.
    Their answers go only to a response_url on Slack's hosts (or `api_url`'s, the fake's); a
    modal's field errors, which Slack can no longer show, go to `on_lost_form`."""

    def __init__(self, api_url: str | None = None, on_lost_form: LostForm | None = None) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()
        self.api_url = api_url
        self.on_lost_form = on_lost_form

    def answer_url(self, url: str | None, kind: str) -> str | None:
        """`url` if an answer may go there; None (and a warning naming the host only) if not."""
        if not url:
            return None
        if response_url_allowed(url, api_url=self.api_url):
            return url
        log.warning("late answer to %s not sent: response_url on %s is not Slack's", kind, host_of(url))
        return None

    def adopt(
        self,
        task: asyncio.Task[Any],
        kind: str,
        response_url: str | None,
        body: dict[str, Any] | None = None,
    ) -> None:
        self.tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self.tasks.discard(t)
            if t.cancelled():
                return
            if t.exception() is not None:
                log.warning("%s failed after its ack: %s", kind, type(t.exception()).__name__)
                return
            acked = _acked(t.result())
            errors = _form_errors(acked) if kind == "view_submission" else None
            if errors and body is not None and self.on_lost_form is not None:
                log.warning("a form's errors came after its ack; the person is told by DM")
                self._follow(self._tell_lost_form(body, errors))
                return
            answer = _ack_message(acked)
            if answer is not None and (url := self.answer_url(response_url, kind)):
                # the ack's words (e.g. help text, a refusal) still reach the person, ephemerally
                self._follow(_post_late_answer(url, answer, kind))

        task.add_done_callback(done)

    def _follow(self, work: Awaitable[None]) -> None:
        follow_up = asyncio.ensure_future(work)
        self.tasks.add(follow_up)
        follow_up.add_done_callback(self.tasks.discard)

    async def _tell_lost_form(self, body: dict[str, Any], errors: dict[str, str]) -> None:
        assert self.on_lost_form is not None
        try:
            await self.on_lost_form(body, errors)
        except Exception as exc:  # logged without the form: it holds what the person typed
            log.error("a form's late errors could not be told: %s", type(exc).__name__)

    async def wait(self, within: float = 10) -> None:
        """Until every late listener is done, and what each left to send (an answer, a DM) too."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.tasks and (left := deadline - loop.time()) > 0:
            await asyncio.wait(set(self.tasks), timeout=left)


def _acked(bolt_response: Any) -> dict[str, Any] | str | None:
    """What a listener's ack said: its JSON object, its plain text, or None (nothing, not 200)."""
    if getattr(bolt_response, "status", 500) != 200 or not bolt_response.body:
        return None
    try:
        body = json.loads(bolt_response.body)
    except (ValueError, TypeError):
        return str(bolt_response.body)
    return body if isinstance(body, dict) else None


def _form_errors(acked: dict[str, Any] | str | None) -> dict[str, str] | None:
    """A view_submission's `response_action: errors`, if that was its answer."""
    if not isinstance(acked, dict) or acked.get("response_action") != "errors":
        return None
    errors = acked.get("errors")
    return {str(k): str(v) for k, v in errors.items()} if isinstance(errors, dict) and errors else None


def _ack_message(acked: dict[str, Any] | str | None) -> dict[str, Any] | None:
    if isinstance(acked, str):
        return {"text": acked}
    if acked is None or not (acked.get("text") or acked.get("blocks")):
        return None
    if "response_action" in acked:
        return None  # a modal's answer; too late for that modal
    return {"response_type": "ephemeral", "replace_original": False, **acked}


async def _post_late_answer(url: str, answer: dict[str, Any], kind: str) -> None:
    import aiohttp

    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=answer, timeout=aiohttp.ClientTimeout(total=10)) as resp:
                if resp.status >= 400:
                    log.warning("late answer to %s refused by Slack: HTTP %s", kind, resp.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("late answer to %s could not be sent: %s", kind, type(exc).__name__)


async def say_sorry(url: str) -> None:
    from bot import messages

    await _post_late_answer(
        url,
        {"response_type": "ephemeral", "replace_original": False, "text": messages.SOMETHING_WENT_WRONG},
        "an apology",
    )


class AckDispatcher:
    """Bolt behind Slack's ack deadline, for HTTP and Socket Mode alike: the answer comes from the
    listener, or an empty ack at ACK_DEADLINE while the listener carries on (its words then go to
    response_url); a command or interaction whose listener failed is acked and apologised for.

    Listeners that outlive their ack are kept in `late` and awaited at shutdown."""

    def __init__(
        self, bolt: AsyncApp, *, api_url: str | None = None, on_lost_form: LostForm | None = None
    ) -> None:
        self.bolt = bolt
        self.late = LateListeners(api_url, on_lost_form)

    async def answer(
        self,
        bolt_request: AsyncBoltRequest,
        *,
        kind: str,
        response_url: str | None,
        is_event: bool,
        on_late: Callable[[], None] | None = None,
    ) -> BoltResponse:
        task = asyncio.ensure_future(self._dispatch(bolt_request, kind, response_url, is_event))
        done, _ = await asyncio.wait({task}, timeout=ACK_DEADLINE)
        if not done:
            log.warning("%s took longer than %.1fs; acked, its listener carries on", kind, ACK_DEADLINE)
            metrics.late_acks.labels(kind).inc()
            if on_late is not None:
                on_late()
            self.late.adopt(task, kind, response_url, bolt_request.body)
            return BoltResponse(status=200, body="")
        return task.result()

    async def _dispatch(
        self, bolt_request: AsyncBoltRequest, kind: str, response_url: str | None, is_event: bool
    ) -> BoltResponse:
        bolt_response = await self.bolt.async_dispatch(bolt_request)
        if bolt_response.status < 500 or is_event:
            # an event's 5xx makes Slack retry it (bot/handlers/idempotency.py forgot its key)
            return bolt_response
        # a command or interaction whose listener failed (e.g. an expired trigger_id): Slack would
        # show the person a bare error; answer 200 and say sorry where they can see it instead
        log.warning("%s failed in its listener; answered 200", kind)
        if url := self.late.answer_url(response_url, kind):
            self.late.adopt(asyncio.ensure_future(say_sorry(url)), kind, None)
        return BoltResponse(status=200, body="")


class SlackEventsEndpoint:
    """POST /slack/events: Slack's HTTP requests (commands, interactions, events) into Bolt,
    through the AckDispatcher that Socket Mode shares."""

    def __init__(
        self, *, bolt: AsyncApp, signing_secret: str, dispatcher: AckDispatcher | None = None
    ) -> None:
        self.bolt = bolt
        self.verifier = RequestVerifier(signing_secret)
        self.dispatcher = dispatcher or AckDispatcher(bolt)
        self.late = self.dispatcher.late

    def register(self, app: web.Application, path: str = "/slack/events") -> None:
        app.router.add_post(path, self.handle)
        app.on_shutdown.append(self._finish_late_listeners)

    async def _finish_late_listeners(self, app: web.Application) -> None:
        await self.late.wait()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > MAX_SLACK_BODY:
            return web.json_response({"error": "request body too large"}, status=413)
        body = await request.read()
        if len(body) > MAX_SLACK_BODY:
            return web.json_response({"error": "request body too large"}, status=413)
        content_type = request.headers.get("Content-Type", "")
        if is_ssl_check(body, content_type):
            return web.Response(status=200)  # Slack checking our certificate: unsigned, no work (as Bolt)
        if not self.verifier.is_valid(body, request.headers):
            return web.json_response({"error": "invalid request signature"}, status=401)
        parsed, problem = read_body(body, content_type)
        if problem is not None:
            log.warning("signed request refused as malformed: %s", problem)
            return web.json_response({"error": "malformed payload"}, status=400)
        headers: dict[str, str | Sequence[str]] = {
            k: v for k, v in request.headers.items() if k.lower() not in BOLT_INTERNAL_HEADERS
        }
        bolt_request = parsed_bolt_request(
            body.decode("utf-8", errors="replace"), parsed, query=request.query_string, headers=headers
        )
        is_json = "json" in content_type
        kind, response_url = describe(parsed, is_event_body=is_json)
        request[metrics.REQUEST_KIND] = kind

        def acked_late() -> None:
            request[metrics.REQUEST_OUTCOME] = "late_ack"

        # the listener's task inherits these, so its log lines say which request they belong to
        with log_context(request_id=uuid.uuid4().hex[:12], team_id=_team_of(parsed)):
            answer = await self.dispatcher.answer(
                bolt_request,
                kind=kind,
                response_url=response_url,
                is_event=is_json and event_key(parsed) is not None,
                on_late=acked_late,
            )
        return await to_aiohttp_response(answer)
