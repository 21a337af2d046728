"""Standard Webhooks: our signature against the reference package, the URL rules (SSRF), the
resolver that drops private addresses, Retry-After, event filters."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from bot.domain import webhooks as spec
from bot.domain.errors import InvalidInput
from bot.outbox.webhook_delivery import GuardedResolver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_our_signature_is_the_reference_packages() -> None:
    body = json.dumps({"type": "lead.created", "timestamp": "2026-11-30T10:00:00+00:00", "data": {"id": 1}})
    stamp = 1_764_496_800
    ours = spec.sign(SECRET, "msg_1_2", stamp, body.encode())
    theirs = Webhook(SECRET).sign("msg_1_2", datetime.fromtimestamp(stamp, UTC), body)
    assert ours == theirs


def test_the_reference_package_verifies_our_headers_and_refuses_tampering() -> None:
    body = b'{"type":"lead.claimed","timestamp":"2026-11-30T10:00:00+00:00","data":{}}'
    now = int(datetime.now(UTC).timestamp())
    headers = spec.headers(SECRET, "msg_7_1", now, body)
    assert Webhook(SECRET).verify(body, headers)["type"] == "lead.claimed"
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace(b"claimed", b"created"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(spec.new_secret()).verify(body, headers)
    stale = spec.headers(SECRET, "msg_7_1", now - 600, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body, stale)


def test_new_secrets_are_whsec_with_24_bytes_and_bad_ones_are_refused() -> None:
    made = spec.new_secret()
    assert made.startswith("whsec_") and len(spec.secret_key(made)) == 24
    for bad in ("whsec_not base64!", "whsec_c2hvcnQ=", ""):
        with pytest.raises(InvalidInput):
            spec.secret_key(bad)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "http://user:pw@example.com/",
        "http://127.0.0.1/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest",
        "http://100.64.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://localhost/",
        "http://a.localhost/",
        "https://example.com:99999/",
        "https://",
        "https://example.com/" + "x" * 600,
    ],
)
def test_urls_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        spec.check_url(url, allow_private=False)


def test_urls_allowed() -> None:
    assert (
        spec.check_url(" https://hooks.example.com/in ", allow_private=False)
        == "https://hooks.example.com/in"
    )
    assert spec.check_url("http://8.8.8.8:8080/x", allow_private=False)
    assert spec.check_url("http://127.0.0.1:9000/x", allow_private=True)


class _Inner:
    def __init__(self, *hosts: str) -> None:
        self.hosts = hosts

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list:
        return [
            {"hostname": host, "host": h, "port": port, "family": family, "proto": 0, "flags": 0}
            for h in self.hosts
        ]

    async def close(self) -> None:
        return None


async def test_the_resolver_drops_private_addresses_so_rebinding_cannot_reach_them() -> None:
    resolver = GuardedResolver(allow_private=False)
    resolver.inner = _Inner("127.0.0.1", "10.0.0.8")  # type: ignore[assignment]
    with pytest.raises(OSError):
        await resolver.resolve("rebind.example.com", 80)
    resolver.inner = _Inner("10.0.0.8", "93.184.215.14")  # type: ignore[assignment]
    assert [r["host"] for r in await resolver.resolve("mixed.example.com", 80)] == ["93.184.215.14"]
    allowing = GuardedResolver(allow_private=True)
    allowing.inner = _Inner("127.0.0.1")  # type: ignore[assignment]
    assert [r["host"] for r in await allowing.resolve("dev.local", 80)] == ["127.0.0.1"]


def test_retry_after_seconds_or_http_date() -> None:
    assert spec.retry_after("120", now_epoch=0) == 120
    assert spec.retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now_epoch=1445412470) == 10
    assert spec.retry_after(None, now_epoch=0) == 5.0
    assert spec.retry_after("soon", now_epoch=0) == 5.0
    assert spec.retry_after("999999", now_epoch=0) == 3600


def test_event_filters() -> None:
    assert spec.parse_filter("") == ["*"]
    assert spec.parse_filter("lead.claimed, lead.*") == ["lead.*", "lead.claimed"]
    with pytest.raises(InvalidInput):
        spec.parse_filter("lead.exploded")
    assert spec.matches(["lead.*"], "lead.claimed") and not spec.matches(["lead.*"], "target.updated")
    assert spec.matches(["*"], "discussion.recap_posted")
    assert spec.message_id(12, 3) == "msg_12_3"
