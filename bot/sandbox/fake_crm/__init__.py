"""Fake CRMs for tests and the bench, like the fake Slack: state kept as the real API keeps it,
answers shaped like its API reference, faults on demand."""

from __future__ import annotations

from bot.sandbox.fake_crm.hubspot import FakeHubSpot
from bot.sandbox.fake_crm.salesforce import FakeSalesforce

__all__ = ["FakeHubSpot", "FakeSalesforce"]
