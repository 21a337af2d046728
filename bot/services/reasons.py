"""The workspace's reject reasons: the one place the `reject_reasons` setting is read (the verdict
form and its checks, App Home, the partnership prompts, exports, the lead's details)."""

from __future__ import annotations

from bot.domain.reasons import REASONS_KEY, normalise_reasons
from bot.storage.uow import UnitOfWork


async def reject_reasons(uow: UnitOfWork, team_id: str) -> dict[str, str]:
    """{code: label}, in the order the verdict form offers them; "Other" always among them."""
    return normalise_reasons(await uow.settings.get(team_id, REASONS_KEY))
