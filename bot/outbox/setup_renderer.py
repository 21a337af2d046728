"""The setup checklist DM, rendered at send time from what is configured now; its updates are a
chat.update of the message the checklist's post became."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.domain.outbox import OutboxStatus, Purpose
from bot.domain.setup_checklist import CHANNEL_KEYS, SetupFacts
from bot.outbox.notifier import UPDATE
from bot.outbox.outcome import Outcome, RowSnapshot
from bot.outbox.rendering import Rendered
from bot.slack.blocks.serialize import as_dicts
from bot.slack.blocks.setup import checklist_blocks, checklist_text
from bot.storage.models import Outbox
from bot.storage.uow import UnitOfWork


async def setup_facts(uow: UnitOfWork, settings: Settings, team_id: str) -> SetupFacts:
    rows = await uow.settings.overrides(team_id, CHANNEL_KEYS)
    channels = sum(1 for key in CHANNEL_KEYS if (rows[key].value if key in rows else getattr(settings, key)))
    admins = await uow.settings.admins(team_id)
    own_admins = len(admins) if admins is not None else len(settings.admins)
    return SetupFacts(channels=channels, admins=own_admins, rules=len(await uow.rules.all(team_id)))


class SetupRenderer:
    purposes = frozenset({Purpose.SETUP_CHECKLIST})

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.session_factory = session_factory
        self.settings = settings

    async def render(self, rows: Sequence[tuple[RowSnapshot, dict[str, Any]]]) -> Rendered:
        calls: Rendered = {}
        async with UnitOfWork(self.session_factory) as uow:
            for row, args in rows:
                facts = await setup_facts(uow, self.settings, row.team_id)
                args.pop("render", None)
                args["text"], args["blocks"] = (
                    checklist_text(facts),
                    as_dicts(checklist_blocks(facts)),
                )
                if row.method == UPDATE:
                    post = await uow.session.scalar(
                        select(Outbox)
                        .where(
                            Outbox.team_id == row.team_id,
                            Outbox.purpose == Purpose.SETUP_CHECKLIST.value,
                            Outbox.method != UPDATE,
                        )
                        .order_by(Outbox.id.desc())
                        .limit(1)
                    )
                    if post is None or post.status == OutboxStatus.FAILED.value:
                        calls[row.id] = Outcome.fail("the checklist was never posted")
                        continue
                    if post.result_ts is None:
                        calls[row.id] = Outcome.wait_for("the checklist")
                        continue
                    args["channel"], args["ts"] = post.result_channel, post.result_ts
                calls[row.id] = (row.method, args)
        return calls

    async def record_sent(self, uow: UnitOfWork, row: Outbox, outcome: Outcome) -> None:
        return None
