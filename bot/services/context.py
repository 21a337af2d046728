"""What every service call needs: a unit of work, the time, the settings, who is acting."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.slack.notifier import Notifier
from bot.storage.uow import UnitOfWork


@dataclass
class Ctx:
    uow: UnitOfWork
    notifier: Notifier
    settings: Settings
    team_id: str

    @property
    def now(self):
        return self.notifier.now

    def is_admin(self, user_id: str | None) -> bool:
        return bool(user_id) and user_id in self.settings.admins

    async def channel_setting(self, key: str) -> str | None:
        """A channel admins set from Slack, else the environment default."""
        default = getattr(self.settings, key)
        return await self.uow.settings.get(self.team_id, key, default)
