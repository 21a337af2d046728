"""Handoff: a self-hosted Slack bot that makes sales and marketing work as counterparts."""

__version__ = "0.1.0"
