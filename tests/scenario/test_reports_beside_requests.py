"""Reports read through the read unit of work (issue 22): while the weekly digest or an export
holds its read transaction open, a Claim still goes through (on SQLite the requests' one
connection is not theirs to wait for)."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import pytest

from bot.domain.periods import Window
from bot.handlers import export as export_handler
from bot.sandbox import visible_text
from bot.services import digest as digest_service
from bot.storage.uow import UnitOfWork
from tests.conftest import ADMIN, PARTNERSHIP, REP1, SALES, RunningBot
from tests.scenario.test_card_and_claim import add_lead

WAIT = 10  # seconds: far more than a Claim takes; a Claim queued behind the report never comes


class Hold:
    """Keeps a report's transaction open (after a first read, so its snapshot is taken) until
    released, and remembers which engine it read through."""

    def __init__(self) -> None:
        self.reading, self.release = asyncio.Event(), asyncio.Event()
        self.binds: list[Any] = []

    async def __call__(self, uow: UnitOfWork) -> None:
        self.binds.append(uow.session.bind)
        await uow.leads.get("T0NOBODY", 1)
        self.reading.set()
        await asyncio.wait_for(self.release.wait(), WAIT * 3)


def report_engine(bot: RunningBot) -> Any:
    return bot.handoff.read_engine or bot.handoff.engine


async def claim_meanwhile(bot: RunningBot, hold: Hold, lead_id: int) -> None:
    await asyncio.wait_for(hold.reading.wait(), WAIT)
    reply = await asyncio.wait_for(bot.slack.click(REP1, "Claim", channel_id=SALES), WAIT)
    assert reply.status == 200
    team = await bot.handoff.default_team_id()
    async with bot.handoff.read_uow() as uow:  # committed, and seen by a report begun afterwards
        lead = await uow.leads.get(team or "", lead_id)
    assert lead is not None and lead.owner_id == REP1
    hold.release.set()


async def test_a_claim_goes_through_while_the_digest_reads(bot: RunningBot) -> None:
    lead_id = await add_lead(bot)
    team = await bot.handoff.default_team_id()
    assert team
    hold = Hold()

    async def held_section(uow: UnitOfWork, team_id: str, week: Window) -> str | None:
        await hold(uow)
        return None

    digest = asyncio.create_task(
        digest_service.run_weekly_digest(
            bot.handoff, team, bot.clock.now(), sections=[("held open", held_section)]
        )
    )
    await claim_meanwhile(bot, hold, lead_id)
    assert await asyncio.wait_for(digest, WAIT)
    assert hold.binds == [report_engine(bot)]
    await bot.flush()
    assert any("Handoff weekly digest" in visible_text(p.blocks) for p in bot.fake.messages(PARTNERSHIP))


async def test_a_claim_goes_through_while_an_export_reads(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead_id = await add_lead(bot)
    hold = Hold()
    export = export_handler.export_to_string

    async def held_export(uow: UnitOfWork, *args: Any, **kwargs: Any) -> tuple[str, int]:
        await hold(uow)
        return await export(uow, *args, **kwargs)

    monkeypatch.setattr(export_handler, "export_to_string", held_export)
    reply = await bot.slack.command(ADMIN, "/handoff", "export leads")
    assert "Preparing your leads export" in reply.text
    await claim_meanwhile(bot, hold, lead_id)
    exports = [t for t in bot.handoff._tasks if t.get_name().startswith("export:")]
    await asyncio.wait_for(asyncio.gather(*exports), WAIT)
    assert hold.binds == [report_engine(bot)]
    [file] = bot.fake.files
    [row] = list(csv.DictReader(io.StringIO(file.content.decode(), newline="")))
    assert row["email"] == "jane@acme.com"
