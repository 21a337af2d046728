"""Imports the feature modules whose scheduled jobs register themselves with bot.jobs."""

from __future__ import annotations

from bot.services import (
    discussions,  # noqa: F401 - partnership prompts and recaps
    sla,  # noqa: F401 - SLA reminders, escalations and nudges
)
