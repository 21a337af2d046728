"""Bursts: one-lead requests that add up to bulk. A marketing tool that posts one request per lead
(300 in a minute for one channel) should not flood the channel any more than one request with 300
leads would: past the bulk threshold within the burst window, the channel's further leads go the
bulk way (a summary card per source/campaign, the leads listed in its thread)."""

from __future__ import annotations

from collections.abc import Mapping


def bulk_channels(new: Mapping[str, int], *, threshold: int) -> frozenset[str]:
    """The channels one call brings more than `threshold` new leads to (an API batch, a CSV chunk)."""
    return frozenset(channel for channel, count in new.items() if count > threshold)


def burst_channels(new: Mapping[str, int], recent: Mapping[str, int], *, threshold: int) -> frozenset[str]:
    """The channels whose leads of the window, counting this call's (`new`) and the ones stored
    within the window before it (`recent`), are more than `threshold`: a burst."""
    return frozenset(
        channel for channel, count in new.items() if count and count + recent.get(channel, 0) > threshold
    )
