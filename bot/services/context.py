"""What every service call needs: a unit of work, the time, the settings, who is acting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot import messages
from bot.config import Settings
from bot.domain.errors import NotAllowed
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

    def require_admin(self, user_id: str | None) -> None:
        """NotAllowed, naming the admins to ask, unless `user_id` is one."""
        if not self.is_admin(user_id):
            raise admins_only(self.settings.admins)

    async def channel_setting(self, key: str) -> str | None:
        """A channel admins set from Slack, else the environment default."""
        default = getattr(self.settings, key)
        return await self.uow.settings.get(self.team_id, key, default)


def admins_only(admins: Sequence[str]) -> NotAllowed:
    """The refusal for a non-admin: who the admins are, or how to name some."""
    if admins:
        return NotAllowed(messages.ADMINS_ONLY.format(admins=", ".join(f"<@{a}>" for a in admins)))
    return NotAllowed(messages.NO_ADMINS)
