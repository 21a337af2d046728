"""Who a lead-API request is from: a workspace token (acting in its own workspace only) or the
HANDOFF_INTAKE_TOKEN shortcut (the single workspace), by bearer token or by signature.

A signature must carry a fresh timestamp (±5 minutes) and is accepted once: it is remembered in
the processed-key table until it could no longer pass the timestamp check, so a captured request
cannot be replayed, on one instance or another. A token's use is recorded at most once a minute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.api_tokens import (
    REPLAY_MEMORY_SECONDS,
    is_workspace_token,
    key_id_of,
    same_secret,
    sign,
    timestamp_problem,
    token_hash,
)
from bot.domain.errors import Unauthenticated
from bot.storage.models import ApiToken
from bot.storage.uow import UnitOfWork

INVALID = "invalid credentials"
MISSING = (
    "missing credentials: send Authorization: Bearer <token>, or X-Handoff-Signature with X-Handoff-Timestamp"
)
REPLAYED = "this signed request was already received: sign every request anew, with a fresh timestamp"
LAST_USED_EVERY = timedelta(minutes=1)
REPLAY_KEYS_TEAM = "lead-api"  # processed_key rows of signatures: not a workspace's


@dataclass(frozen=True)
class ApiCredentials:
    """What a request offers: a bearer token, or a signature over `signed` (the raw body of a
    POST, the path and query of a GET) with its timestamp and, for workspace tokens, key ID."""

    bearer: str | None = None
    signature: str | None = None
    timestamp: str | None = None
    key_id: str | None = None
    signed: bytes = b""


@dataclass(frozen=True)
class ApiCaller:
    """A workspace token's workspace and name, or (None, None): the HANDOFF_INTAKE_TOKEN."""

    team_id: str | None
    token_name: str | None = None


async def authenticate(
    uow: Callable[[], UnitOfWork], intake_token: str, credentials: ApiCredentials, now: datetime
) -> ApiCaller:
    """The caller, or Unauthenticated with a sentence that tells an outsider nothing."""
    if credentials.bearer is not None:
        return await _bearer(uow, intake_token, credentials.bearer, now)
    if credentials.signature is not None:
        return await _signed(uow, intake_token, credentials, now)
    raise Unauthenticated(MISSING)


async def _bearer(uow: Callable[[], UnitOfWork], intake_token: str, given: str, now: datetime) -> ApiCaller:
    if is_workspace_token(given):
        async with uow() as work:
            row = await work.api_tokens.by_key_id(key_id_of(given))
            if (
                row is None
                or row.revoked_at is not None
                or not same_secret(token_hash(given), row.token_hash)
            ):
                raise Unauthenticated(INVALID)
            await _record_use(work, row, now)
            return ApiCaller(team_id=row.team_id, token_name=row.name)
    if intake_token and same_secret(given, intake_token):
        return ApiCaller(team_id=None)
    raise Unauthenticated(INVALID)


async def _signed(
    uow: Callable[[], UnitOfWork], intake_token: str, credentials: ApiCredentials, now: datetime
) -> ApiCaller:
    problem = timestamp_problem(credentials.timestamp, now.timestamp())
    if problem is not None:
        raise Unauthenticated(problem)
    assert credentials.signature is not None and credentials.timestamp is not None
    given = credentials.signature.strip().lower()
    async with uow() as work:
        row: ApiToken | None = None
        if credentials.key_id is not None:
            row = await work.api_tokens.by_key_id(credentials.key_id.strip())
            if row is None or row.revoked_at is not None:
                raise Unauthenticated(INVALID)
            key, caller = row.token_hash, ApiCaller(team_id=row.team_id, token_name=row.name)
        elif intake_token:
            key, caller = intake_token, ApiCaller(team_id=None)
        else:
            raise Unauthenticated(INVALID)
        if not same_secret(given, sign(key, credentials.signed, credentials.timestamp)):
            raise Unauthenticated(INVALID)
        first_time = await work.keys.remember(
            team_id=REPLAY_KEYS_TEAM,
            key=f"signature:{given}",
            at=now,
            ttl=timedelta(seconds=REPLAY_MEMORY_SECONDS),
        )
        if not first_time:
            raise Unauthenticated(REPLAYED)
        if row is not None:
            await _record_use(work, row, now)
    return caller


async def _record_use(work: UnitOfWork, row: ApiToken, now: datetime) -> None:
    # read anyway to authenticate: the write only happens when the last one is a minute old
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        await work.api_tokens.touch(row.id, at=now, every=LAST_USED_EVERY)
