"""Outbound events by the Standard Webhooks specification (https://www.standardwebhooks.com):
the event types, the signature, the secret's format and the rules an endpoint URL must keep.
Pure: the delivery (bot/outbox/webhook_delivery.py) resolves hosts and makes the calls."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Iterable
from email.utils import parsedate_to_datetime
from enum import StrEnum
from urllib.parse import urlsplit

from bot.domain.errors import InvalidInput

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
MAX_URL = 500


class EventType(StrEnum):
    LEAD_CREATED = "lead.created"
    LEAD_ROUTED = "lead.routed"
    LEAD_CLAIMED = "lead.claimed"
    LEAD_RELEASED = "lead.released"
    LEAD_ACCEPTED = "lead.accepted"
    LEAD_REJECTED = "lead.rejected"
    LEAD_STAGE_CHANGED = "lead.stage_changed"
    LEAD_SLA_BREACHED = "lead.sla_breached"
    TARGET_UPDATED = "target.updated"
    DISCUSSION_RECAP_POSTED = "discussion.recap_posted"
    PING = "webhook.test"  # `handoff webhooks test`: goes to the one endpoint asked for


ALL_EVENTS = "*"


def parse_filter(text: str | Iterable[str] | None) -> list[str]:
    """An event filter: "*" (everything, the default) or event types, comma or space separated;
    "lead.*" takes every lead event."""
    items = text.replace(",", " ").split() if isinstance(text, str) else list(text or [])
    if not items or ALL_EVENTS in items:
        return [ALL_EVENTS]
    known = {e.value for e in EventType if e is not EventType.PING}
    families = {k.split(".")[0] + ".*" for k in known}
    bad = [i for i in items if i not in known and i not in families]
    if bad:
        raise InvalidInput(
            {"events": f"unknown event type {bad[0]!r}; known: {', '.join(sorted(known))} (or lead.*, *)"}
        )
    return sorted(set(items))


def matches(event_filter: Iterable[str], event_type: str) -> bool:
    for item in event_filter:
        if item == ALL_EVENTS or item == event_type:
            return True
        if item.endswith(".*") and event_type.startswith(item[:-1]):
            return True
    return False


def new_secret() -> str:
    """24 random bytes, as the spec suggests (between 24 and 64), base64 after `whsec_`."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64-decoded part after `whsec_` (a secret without the prefix is the
    base64 itself, as the reference libraries accept)."""
    raw = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(raw, validate=True)
    except (ValueError, TypeError) as exc:
        raise InvalidInput({"secret": "must be whsec_ followed by base64"}) from exc
    if not 24 <= len(key) <= 64:
        raise InvalidInput({"secret": "must hold 24 to 64 bytes (whsec_ + base64)"})
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature`: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def message_id(event_id: int, endpoint_id: int) -> str:
    """Stable per event and endpoint: every retry and every replay carries the same id, so a
    receiver dedupes on it."""
    return f"msg_{event_id}_{endpoint_id}"


def check_url(url: str, *, allow_private: bool) -> str:
    """An endpoint URL we may call: http(s), a host, no credentials in it; a literal address
    must be public unless `allow_private`. Names are checked again when resolved (delivery)."""
    url = url.strip()
    if len(url) > MAX_URL:
        raise InvalidInput({"url": f"at most {MAX_URL} characters"})
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput({"url": "not a URL"}) from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidInput({"url": "must start with https:// (or http://)"})
    if not parts.hostname:
        raise InvalidInput({"url": "has no host"})
    if parts.username or parts.password:
        raise InvalidInput({"url": "must not carry a user or password; use the signing secret"})
    if port == 0:
        raise InvalidInput({"url": "port 0"})
    host = parts.hostname
    if not allow_private:
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise InvalidInput({"url": "points at this network (set HANDOFF_WEBHOOK_ALLOW_PRIVATE=true)"})
        literal = literal_ip(host)
        if literal is not None and not address_allowed(literal, allow_private=False):
            raise InvalidInput(
                {"url": "points at a private address (set HANDOFF_WEBHOOK_ALLOW_PRIVATE=true)"}
            )
    return url


def literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def address_allowed(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | str, *, allow_private: bool
) -> bool:
    """Public unicast only, unless `allow_private`: no loopback, private, link-local (cloud
    metadata at 169.254.169.254), shared (100.64/10), multicast, reserved or unspecified."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if allow_private:
        return not ip.is_unspecified and not ip.is_multicast
    return ip.is_global and not ip.is_multicast


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def retry_after(value: str | None, *, now_epoch: float, default: float = 5.0, cap: float = 3600.0) -> float:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return default
    value = value.strip()
    try:
        return min(cap, max(0.0, float(value)))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return default
    return min(cap, max(0.0, when.timestamp() - now_epoch))
