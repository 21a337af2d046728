"""Delivery: one rendered row to Slack. A post that an earlier attempt may have made is looked
for first (by our metadata mark), so a crash or a lost answer never posts the same thing twice;
Slack's answer becomes an Outcome (429 blocks the pacing key for Retry-After)."""

from __future__ import annotations

import base64
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.domain.outbox import RATELIMITED, Purpose
from bot.observability import metrics
from bot.outbox.outcome import Backoff, Call, Outcome, RowSnapshot, short_error
from bot.outbox.pacing import POST_METHOD, Pacer, Stopping
from bot.outbox.rendering import is_ours
from bot.slack.clients import NoInstallation, SlackClients

log = logging.getLogger(__name__)

# Errors retrying cannot fix: the row fails at once and admins hear about it.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "invalid_arguments",
        "msg_too_long",
        "no_text",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "message_not_found",
        "cant_update_message",
        "user_not_found",
        "channel_is_archived",
        "restricted_action",
    }
)
LOOKUP_MARGIN = timedelta(minutes=10)  # clock skew between us and Slack
LOOKUP_PAGES = 15
LOOKUP_ERROR = "while checking for an earlier post: "

# seconds left of the row's lease (the sender's clock)
LeaseLeft = Callable[[], float]


class PurposeDelivery(Protocol):
    """A delivery path for rows that are not Slack calls (outbound webhooks)."""

    async def attempt(self, row: RowSnapshot, call: Call, lease_left: LeaseLeft) -> Outcome: ...

    async def aclose(self) -> None: ...


class Delivery:
    def __init__(self, *, clients: SlackClients, pacer: Pacer, backoff: Backoff, call_timeout: float) -> None:
        self.clients = clients
        self.pacer = pacer
        self.backoff = backoff
        self.call_timeout = call_timeout
        self.found_count = 0  # rows found already posted after a crash or a lost answer
        # HTTP calls that are not Slack's, by purpose (outbound webhooks, CRM sync; build_app)
        self.others: dict[Purpose, PurposeDelivery] = {}

    async def attempt(self, row: RowSnapshot, call: Call, lease_left: LeaseLeft) -> Outcome:
        method, args = call
        if row.purpose in self.others:
            return await self.others[row.purpose].attempt(row, call, lease_left)
        try:
            client = await self.clients.outbox(row.team_id)
        except NoInstallation:
            return Outcome.fail("no installation for this workspace")
        if method == POST_METHOD and row.may_have_been_sent:
            # an earlier attempt may have reached Slack without us hearing back: look before posting
            found = await self._find_posted(client, row, args, lease_left)
            if found is not None:
                return found
        try:
            pace_key = await self.pacer.acquire_call(
                row.team_id, method, args.get("channel") or row.channel_id, row.lane
            )
        except Stopping:
            return Outcome.release()  # not sent: pending again, attempt not counted
        if lease_left() < self.call_timeout + 2:
            # another instance may take the row over before our answer could be recorded (the
            # answer is written with others of its pass, a moment after it arrives)
            return Outcome.release()
        if row.purpose is Purpose.FILE_UPLOAD:
            outcome, data = await self._call(
                lambda: _upload(client, args), pace_key, row.attempts, method="files.upload_v2"
            )
        else:
            outcome, data = await self._call(
                lambda: client.api_call(method, json=args), pace_key, row.attempts, method=method
            )
        return Outcome.sent(ts=data.get("ts"), channel=data.get("channel")) if outcome.ok else outcome

    async def _call(
        self, send: Callable[[], Awaitable[Any]], pace_key: str | None, attempts: int, *, method: str
    ) -> tuple[Outcome, dict[str, Any]]:
        """One Web API call; (sent, response data) or (what went wrong, {})."""
        start = time.perf_counter()
        try:
            response = await send()
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error") or f"http_{status}")
            _count(method, "ratelimited" if status == 429 else "error", start)
            if status == 429:
                headers = exc.response.headers or {}
                retry_after = _seconds(headers.get("Retry-After", headers.get("retry-after", 1)))
                if pace_key is not None:
                    self.pacer.block(pace_key, retry_after)
                return Outcome.retry(retry_after, RATELIMITED), {}
            if error in PERMANENT_ERRORS:
                return Outcome.fail(error), {}
            return Outcome.retry(self.backoff(attempts), error), {}
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            _count(method, "timeout", start)
            # Slack may still be working on it: look (and maybe post again) only once it must be done
            retry_in = max(self.backoff(attempts), self.call_timeout)
            return Outcome.retry(retry_in, short_error(exc) or "timeout"), {}
        except (aiohttp.ClientError, ConnectionError, OSError) as exc:
            _count(method, "connection", start)
            return Outcome.retry(self.backoff(attempts), short_error(exc)), {}
        _count(method, "ok", start)
        data = getattr(response, "data", response)  # _upload answers with a plain dict
        return Outcome.sent(), dict(data) if isinstance(data, dict) else {}

    async def _find_posted(
        self, client: Any, row: RowSnapshot, args: dict[str, Any], lease_left: LeaseLeft
    ) -> Outcome | None:
        """The message this row posted earlier, if Slack has it (found by our metadata mark).
        None means "not there: post it"; an Outcome means "found" or "could not look: retry"."""
        channel = str(args.get("channel") or "")
        if channel[:1] in ("U", "W"):
            # a DM addressed by user ID: history needs the IM's channel ID
            key = await self.pacer.acquire_call(row.team_id, "conversations.open", None, row.lane)
            user = channel
            outcome, opened = await self._call(
                lambda: client.conversations_open(users=user), key, row.attempts, method="conversations.open"
            )
            if not outcome.ok:
                return self._lookup_failed(outcome, row)
            channel = str((opened.get("channel") or {}).get("id") or "")
        thread_ts = args.get("thread_ts")
        method = "conversations.replies" if thread_ts else "conversations.history"
        fetch = client.conversations_replies if thread_ts else client.conversations_history
        oldest = (row.created_at - LOOKUP_MARGIN).timestamp()
        query: dict[str, Any] = {
            "channel": channel,
            "oldest": f"{max(oldest, 0):.6f}",
            "include_all_metadata": True,
            "limit": 200,
        }
        if thread_ts:
            query["ts"] = thread_ts
        joined = False
        for _ in range(LOOKUP_PAGES):
            # a bulk drain's lookups after a crash take the bulk lane's share of the tier, no more
            key = await self.pacer.acquire_call(row.team_id, method, channel, row.lane)
            args_now = dict(query)
            outcome, page = await self._call(
                functools.partial(fetch, **args_now), key, row.attempts, method=method
            )
            if not outcome.ok and outcome.error == "not_in_channel" and not joined:
                # chat:write.public posts where the bot is not a member, but reading needs membership
                joined = True
                join_key = await self.pacer.acquire_call(row.team_id, "conversations.join", channel)
                joining, _ = await self._call(
                    lambda: client.conversations_join(channel=channel),
                    join_key,
                    row.attempts,
                    method="conversations.join",
                )
                if joining.ok:
                    log.info("outbox row %s: joined %s to look for an earlier post", row.id, channel)
                    continue  # the same page again, now readable
                outcome = joining if joining.retry_in is not None else outcome
            if not outcome.ok:
                return self._lookup_failed(outcome, row)
            for message in page.get("messages") or []:
                if is_ours(message, row.id):
                    log.info("outbox row %s was already posted (%s); recording it", row.id, message.get("ts"))
                    self.found_count += 1
                    metrics.lookups.labels("found").inc()
                    return Outcome.sent(ts=message.get("ts"), channel=channel)
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                metrics.lookups.labels("not_found").inc()
                return None
            query["cursor"] = cursor
            if lease_left() < self.call_timeout * 2:
                return Outcome.release()
        return None

    def _lookup_failed(self, outcome: Outcome, row: RowSnapshot) -> Outcome | None:
        """We could not look, so we must not post: retry the whole row later. The error is marked as
        the lookup's, so a 429 here is never mistaken for "Slack did not post" next time.

        A refusal no retry can change (not_in_channel where the bot may not join, missing_scope)
        would keep the row waiting for the give-up in silence: post instead, and say a duplicate is
        possible; a lost lead costs more than a second card (whose buttons act on the same lead)."""
        metrics.lookups.labels("failed").inc()
        if outcome.retry_in is None and outcome.error in PERMANENT_ERRORS:
            log.warning(
                "outbox row %s: cannot look for an earlier post (%s); posting again, a duplicate is possible",
                row.id,
                outcome.error,
            )
            return None
        retry_in = outcome.retry_in if outcome.retry_in is not None else self.backoff(row.attempts)
        return Outcome.retry(retry_in, f"{LOOKUP_ERROR}{outcome.error}")


def _count(method: str, status: str, start: float) -> None:
    metrics.slack_calls.labels(method, status).inc()
    metrics.slack_call_seconds.labels(method).observe(time.perf_counter() - start)


def _seconds(value: Any) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 1.0


async def _upload(client: Any, args: dict[str, Any]) -> dict[str, Any]:
    """files_upload_v2 does getUploadURLExternal, the upload, then completeUploadExternal."""
    channel = args["channel"]
    if channel[:1] in "UW":  # a person: share it in the bot's DM with them
        opened = await client.conversations_open(users=channel)
        channel = opened["channel"]["id"]
    response = await client.files_upload_v2(
        channel=channel,
        content=base64.b64decode(args["content_b64"]),
        filename=args["filename"],
        title=args.get("title"),
        initial_comment=args.get("initial_comment"),
        alt_txt=args.get("alt_txt"),
    )
    return {"ts": None, "channel": channel, "files": response.get("files")}
