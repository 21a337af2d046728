"""Lead-API credentials, as pure functions: workspace tokens (`hnd_…`), their stored hash and key
ID, request signatures with their timestamp window, and what makes a shared secret too weak.

A workspace token is `hnd_` + 43 URL-safe characters (256 random bits). Its first 12 characters
are its key ID: not secret, shown in lists and sent as `X-Handoff-Key-Id` with signed requests so
the server knows which token signed. The server keeps only the SHA-256 of the token. A signature
made with a workspace token is keyed with that SHA-256 (hex), which both sides can compute; the
HANDOFF_INTAKE_TOKEN shortcut signs with the token itself, as before.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "hnd_"
KEY_ID_LENGTH = 12  # "hnd_" + 8 characters: 48 bits, unique per database
MAX_SIGNATURE_AGE = 5 * 60  # seconds either way, like Slack's
# a signature stays acceptable while its timestamp is within the window: ±5 minutes of the clock
REPLAY_MEMORY_SECONDS = 2 * MAX_SIGNATURE_AGE
MIN_SECRET_LENGTH = 32
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PLACEHOLDERS = ("changeme", "change-me", "password", "secret", "example", "replace", "your-token")


@dataclass(frozen=True)
class NewToken:
    """A freshly made token: shown once, then only its hash and key ID are kept."""

    token: str
    key_id: str
    token_hash: str


def new_token() -> NewToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return NewToken(token=token, key_id=key_id_of(token), token_hash=token_hash(token))


def is_workspace_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX) and len(value) > KEY_ID_LENGTH


def key_id_of(token: str) -> str:
    return token[:KEY_ID_LENGTH]


def token_hash(token: str) -> str:
    """What the database keeps of a workspace token (hex SHA-256); also its signing key."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison (no early exit on the first differing character)."""
    return hmac.compare_digest(given.encode(), expected.encode())


def sign(key: str, body: bytes, timestamp: str | None = None) -> str:
    """The X-Handoff-Signature value: HMAC-SHA256 over `<timestamp>.<body>`, keyed with `key`
    (the HANDOFF_INTAKE_TOKEN, or a workspace token's token_hash). Without a timestamp the
    message is the body alone: a form the server no longer accepts (it could be replayed)."""
    message = f"{timestamp}.".encode() + body if timestamp is not None else body
    return "sha256=" + hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def timestamp_problem(timestamp: str | None, now: float) -> str | None:
    """Why a signature's timestamp is not acceptable, or None when it is fresh."""
    if timestamp is None or not timestamp:
        return "signed requests must carry X-Handoff-Timestamp (unix seconds)"
    if not timestamp.isdigit() or len(timestamp) > 12:
        return "X-Handoff-Timestamp must be unix seconds"
    if abs(now - int(timestamp)) > MAX_SIGNATURE_AGE:
        return "signature timestamp is too old or in the future"
    return None


def name_problem(name: str) -> str | None:
    if not NAME_PATTERN.match(name):
        return "use 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit"
    return None


def weak_secret_problem(value: str) -> str | None:
    """Why a shared secret (HANDOFF_INTAKE_TOKEN) is too weak to guard the lead API, or None."""
    if len(value) < MIN_SECRET_LENGTH:
        return (
            f"must be at least {MIN_SECRET_LENGTH} random characters "
            '(make one with: python -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    lowered = value.lower()
    if len(set(value)) < 10 or any(word in lowered for word in _PLACEHOLDERS):
        return (
            "looks like a placeholder or a pattern, not a random secret "
            '(make one with: python -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    return None
