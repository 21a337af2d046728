"""A faithful in-process fake of Slack's Web API, response_urls and file uploads.

Scenario tests point the bot's ``AsyncWebClient(base_url=fake.base_url)`` at it and then assert on
what a person would see (messages, threads, ephemerals, modals, Home). It keeps state like Slack,
answers with Slack's response shapes and error codes, validates Block Kit with ``slack_sdk.models``
plus Slack's size limits, and misbehaves on demand (429, 5xx, slow answers, dropped connections).

Layout: ``models`` (the records), ``state`` (``SlackState``: the workspace's data, messages, snapshot),
``blockkit`` (validation), ``faults`` (misbehaviour), one mixin per Web API family (``chat``,
``conversations``, ``views``, ``users``, ``files``, ``auth``, ``responses`` for response_urls) and
``server`` (the aiohttp app and ``FakeSlack``, which composes them).
"""

from __future__ import annotations

from bot.sandbox.fake_slack.models import (
    ApiCall,
    Channel,
    Ephemeral,
    Message,
    Response,
    SlackError,
    UploadedFile,
)
from bot.sandbox.fake_slack.server import FakeSlack

# The name this error had before the package split; tests still import it.
_SlackError = SlackError

__all__ = [
    "ApiCall",
    "Channel",
    "Ephemeral",
    "FakeSlack",
    "Message",
    "Response",
    "SlackError",
    "UploadedFile",
]
