"""Who is in a channel, asked of Slack and remembered briefly.

A Claim click asks whether the clicker is a member of the card's channel. Asking Slack on every
click (conversations.members, paginated) put a Web API round trip on the path of each click; the
member list of a sales channel changes rarely, so it is kept per (team, channel) for `ttl`.

Only a "yes" is trusted from memory: a "no" always asks Slack again, so someone who has just been
added to the channel can claim at once. Someone just removed may still claim for up to `ttl`
(60 s by default), which is the price of not asking Slack on every click.

Whether a channel is private (conversations.info) is remembered the same way; a channel Slack will
not describe to the bot counts as private, so what is unknown stays hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

# what Slack answers about a channel the bot cannot see (private, and the bot is not in it)
_UNSEEN = {"channel_not_found", "not_in_channel"}


@dataclass
class _Entry:
    members: frozenset[str]
    fetched_at: datetime


@dataclass
class ChannelMembers:
    """A small TTL cache of channel member lists, keyed by (team_id, channel_id)."""

    now: Callable[[], datetime]
    ttl: timedelta = timedelta(seconds=60)
    max_channels: int = 1000  # a bound, not a tuning knob: workspaces have a few sales channels
    _entries: dict[tuple[str, str], _Entry] = field(default_factory=dict)
    _private: dict[tuple[str, str], tuple[bool, datetime]] = field(default_factory=dict)

    async def is_private(self, client: AsyncWebClient, team_id: str, channel_id: str) -> bool:
        key = (team_id, channel_id)
        hit = self._private.get(key)
        if hit is not None and self.now() - hit[1] < self.ttl:
            return hit[0]
        try:
            info = (await client.conversations_info(channel=channel_id)).get("channel") or {}
            private = bool(info.get("is_private", True))
        except SlackApiError as exc:
            if exc.response.get("error") not in _UNSEEN:
                raise
            private = True
        if len(self._private) >= self.max_channels:
            self._private.pop(next(iter(self._private)))
        self._private[key] = (private, self.now())
        return private

    def known_member(self, team_id: str, channel_id: str, user_id: str) -> bool:
        """Whether memory already says yes (no Slack call): a Claim then needs no second look."""
        entry = self._entries.get((team_id, channel_id))
        return entry is not None and self.now() - entry.fetched_at < self.ttl and user_id in entry.members

    async def is_member(self, client: AsyncWebClient, team_id: str, channel_id: str, user_id: str) -> bool:
        key = (team_id, channel_id)
        entry = self._entries.get(key)
        if entry is not None and self.now() - entry.fetched_at < self.ttl and user_id in entry.members:
            return True
        members = await _fetch(client, channel_id)
        if len(self._entries) >= self.max_channels:
            self._entries.pop(next(iter(self._entries)))  # the oldest inserted
        self._entries.pop(key, None)
        self._entries[key] = _Entry(members=members, fetched_at=self.now())
        return user_id in members


async def _fetch(client: AsyncWebClient, channel_id: str) -> frozenset[str]:
    members: set[str] = set()
    cursor = None
    while True:
        try:
            page = await client.conversations_members(channel=channel_id, cursor=cursor, limit=1000)
        except SlackApiError as exc:
            if exc.response.get("error") in _UNSEEN:
                return frozenset()  # a channel the bot cannot see has no members it can vouch for
            raise
        members.update(page.get("members", []))
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return frozenset(members)
