"""Slack request signatures, checked at the edge: anything unverifiable is a 401, never a 500."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from slack_sdk.signature import Clock as SdkClock
from slack_sdk.signature import SignatureVerifier

MAX_AGE_SECONDS = 60 * 5


class _FuncClock(SdkClock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


class RequestVerifier:
    def __init__(self, signing_secret: str, *, now: Callable[[], float] = time.time) -> None:
        self._enabled = bool(signing_secret)
        self._verifier = SignatureVerifier(signing_secret or "-", clock=_FuncClock(now))

    def is_valid(self, body: bytes, headers: Mapping[str, str]) -> bool:
        if not self._enabled:
            return False  # no secret configured: nothing from outside can be trusted
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        # slack_sdk would raise on a non-numeric timestamp (and Bolt answer 500); we say no
        if not timestamp.isdigit() or len(timestamp) > 12 or not signature.startswith("v0="):
            return False
        try:
            return self._verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
        except (ValueError, TypeError):
            return False
