"""Fake Slack for tests and the local sandbox page: Web API fake, signed request driver, renderer."""

from __future__ import annotations

from bot.sandbox.driver import Reply, SlackDriver
from bot.sandbox.fake_slack import ApiCall, Ephemeral, FakeSlack, Message, Response, UploadedFile
from bot.sandbox.render import buttons, inputs, visible_text

__all__ = [
    "ApiCall",
    "Ephemeral",
    "FakeSlack",
    "Message",
    "Reply",
    "Response",
    "SlackDriver",
    "UploadedFile",
    "buttons",
    "inputs",
    "visible_text",
]
