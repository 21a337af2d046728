"""Imports the feature modules whose scheduled jobs register themselves with bot.jobs."""

from __future__ import annotations

from bot.services import (
    digest,  # noqa: F401 - weekly digest job
    discussions,  # noqa: F401 - partnership prompts and recaps
    sla,  # noqa: F401 - SLA reminders, escalations and nudges
)
