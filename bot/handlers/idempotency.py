"""Each Events API event runs its listeners once, whichever way it arrives (HTTP or Socket Mode).

Slack delivers events at least once: it retries (X-Slack-Retry-Num over HTTP, retry_attempt in
Socket Mode, which Bolt mirrors into the same header) when we answer slowly or not with 200, and may
deliver the same event_id twice anyway. A global middleware remembers each event_id in
processed_key (with expiry; a job purges old keys) and answers a repeat with an empty 200 without
running any listener (`skip_if_handled`, in the handlers' one global middleware). Bolt's global middleware runs before, not around, the listeners, so the
"forget on failure" half lives in the app's error handler: when a listener (or a later middleware)
fails, the key is forgotten again, so Slack's retry gets a second chance rather than being swallowed.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.slack.payloads import event_key

if TYPE_CHECKING:
    from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

# Slack retries three times within about five minutes; a day leaves room for delayed duplicates.
EVENT_KEY_TTL = timedelta(hours=24)
_REMEMBERED = "handoff_event_key"  # context key: the delivery this request remembered


async def skip_if_handled(
    handoff: Runtime, body: dict[str, Any], context: Any, request: Any
) -> BoltResponse | None:
    """An empty 200 for an event delivery already handled (no listener runs); None to go on. Run
    for every request by the handlers' one Bolt middleware (bot/handlers/__init__.py)."""
    identity = event_key(body)
    if identity is None:
        return None
    if not await remember_event(handoff, identity):
        retry = (request.headers.get("x-slack-retry-num") or ["-"])[0]
        log.info("%s already handled; skipping this delivery (retry %s)", identity[1], retry)
        return BoltResponse(status=200, body="")
    context[_REMEMBERED] = identity
    return None


def register(bolt: AsyncApp, handoff: Runtime) -> None:
    """The "forget on failure" half: Bolt's error handler."""

    async def forget_failed_delivery(error: Exception, request: Any) -> None:
        # what Bolt's default error handler logs, which this handler replaces
        log.error("a listener or middleware failed: %s", error, exc_info=error)
        identity = request.context.get(_REMEMBERED)
        if identity is not None:
            await forget_event(handoff, identity)  # the 5xx makes Slack retry; let the retry run

    bolt.error(forget_failed_delivery)


async def remember_event(handoff: Runtime, identity: tuple[str, str]) -> bool:
    """True the first time this delivery is seen; a database hiccup lets it through (the handlers
    are idempotent by state; losing an event is worse than seeing it twice)."""
    team_id, key = identity
    try:
        async with handoff.uow() as uow:
            return await uow.keys.remember(
                team_id=team_id, key=key, at=handoff.clock.now(), ttl=EVENT_KEY_TTL
            )
    except Exception as exc:
        log.warning("could not check %s for duplicates: %s", key, type(exc).__name__)
        return True


async def forget_event(handoff: Runtime, identity: tuple[str, str]) -> None:
    team_id, key = identity
    try:
        async with handoff.uow() as uow:
            await uow.keys.forget(team_id=team_id, key=key)
    except Exception as exc:
        log.warning("could not forget %s: %s", key, type(exc).__name__)
