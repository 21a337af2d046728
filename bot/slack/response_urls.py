"""Where a response_url may take an answer: Slack's own hosts, over https, and the configured
SLACK_API_URL's origin (the sandbox and the tests run a fake Slack there).

A response_url arrives inside the payload; followed blindly, it would send what the bot says to
whoever wrote the payload (an internal address, another service). Bolt's `respond` and the edge's
late answers both go through `response_url_allowed` first; a refused one is logged by host only.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from slack_bolt.context.respond.async_respond import AsyncRespond

log = logging.getLogger(__name__)

SLACK_DOMAIN = "slack.com"
_UNSAFE = re.compile(r"[\\\x00-\x20\x7f]")  # backslashes, spaces, control characters


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of a plain absolute URL; None for anything with userinfo, backslashes,
    spaces or control characters (URL parsers disagree about those)."""
    if not url or _UNSAFE.search(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if "@" in parts.netloc or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    default = {"https": 443, "http": 80}.get(scheme)
    return scheme, parts.hostname.lower().rstrip("."), port if port is not None else default


def response_url_allowed(url: str, *, api_url: str | None) -> bool:
    origin = _origin(url)
    if origin is None:
        return False
    scheme, host, port = origin
    if scheme == "https" and port == 443 and (host == SLACK_DOMAIN or host.endswith("." + SLACK_DOMAIN)):
        return True
    return api_url is not None and origin == _origin(api_url)


def host_of(url: str) -> str:
    """For the log line: the host only, never the path (response_urls carry secrets)."""
    try:
        return (urlsplit(url).hostname or "?")[:100]
    except ValueError:
        return "?"


class RefusedRespond(AsyncRespond):
    """Bolt's `respond` for a request whose response_url is not Slack's: says nothing, logs once."""

    def __init__(self, host: str) -> None:
        super().__init__(response_url=None)
        self.host = host

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        log.warning("answer not sent: response_url on %s is not Slack's", self.host)
        return None


def guard_reply_url(context: Any, api_url: str | None) -> None:
    """A request whose response_url leads outside Slack gets a `respond` that refuses (every
    listener receives `respond` from the context, so none can use the URL). Run for every request
    by the handlers' one Bolt middleware (bot/handlers/__init__.py)."""
    url = context.get("response_url")
    if url and not response_url_allowed(str(url), api_url=api_url):
        log.warning("response_url on %s refused: not a Slack host", host_of(str(url)))
        context["response_url"] = None
        context["respond"] = RefusedRespond(host_of(str(url)))
