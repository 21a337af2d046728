"""`--demo` shows after the close: a customer, a signal for its owner, an insight for marketing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import load_settings
from bot.sandbox import visible_text
from bot.sandbox.demo import seed_demo
from bot.sandbox.server import MARKETING, Sandbox
from bot.storage.models import Account, CustomerSignal, Insight
from tests.integration.test_sandbox import eventually


async def test_demo_has_a_customer_a_signal_and_an_insight(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    box = await Sandbox(
        settings=load_settings(database_url=database_url), port=0, state_path=tmp_path / "s.json"
    ).start(seed=seed_demo)
    try:
        assert box.seeded is True and box.handoff is not None
        async with box.handoff.uow() as uow:
            s = uow.session
            assert (await s.scalar(select(func.count()).select_from(Account)) or 0) >= 1
            [signal] = (await s.scalars(select(CustomerSignal))).all()
            [insight] = (await s.scalars(select(Insight))).all()
        assert signal.owner_id and "pricing" in insight.tags
        owner = signal.owner_id
        await eventually(
            box, lambda: any("Signal on your customer" in m.text for m in box.fake.dms(owner)), "signal"
        )
        await eventually(
            box,
            lambda: any("Field insight" in visible_text(m.to_dict()) for m in box.fake.messages(MARKETING)),
            "insight",
        )
    finally:
        await box.stop()
