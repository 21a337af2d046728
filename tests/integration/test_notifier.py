"""The notifier is the only writer of outbox rows; its bulk form writes a batch in one INSERT."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.outbox import OutboxStatus, Purpose
from bot.outbox.notifier import Notifier
from bot.storage.db import make_session_factory
from bot.storage.models import Outbox
from bot.storage.uow import UnitOfWork

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_bulk_writes_its_rows_in_one_statement_when_the_block_ends(engine: AsyncEngine) -> None:
    inserts: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            inserts.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with UnitOfWork(make_session_factory(engine)) as uow:
            notifier = Notifier(uow.outbox, now=NOW, admins=("U0ADMIN",))
            async with notifier.bulk():
                for i in range(5):
                    await notifier.post("T1", "C1", f"message {i}")
                await notifier.alert_admins("T1", "careful")
                assert inserts == []  # nothing written before the block ends
        # one INSERT for the block (on PostgreSQL it rides with the transaction's next statement,
        # here the commit: bot/storage/raw.py)
        assert len(inserts) == 1
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    async with UnitOfWork(make_session_factory(engine)) as uow:
        rows = list(await uow.session.scalars(select(Outbox).order_by(Outbox.id)))
    assert [r.payload["text"] for r in rows] == [*(f"message {i}" for i in range(5)), "careful"]
    assert {r.status for r in rows} == {OutboxStatus.PENDING}
    assert [r.purpose for r in rows][-1] == Purpose.ALERT and rows[-1].channel_id == "U0ADMIN"


async def test_a_failed_block_writes_nothing(engine: AsyncEngine) -> None:
    try:
        async with UnitOfWork(make_session_factory(engine)) as uow:
            notifier = Notifier(uow.outbox, now=NOW)
            async with notifier.bulk():
                await notifier.post("T1", "C1", "never")
                raise RuntimeError("the batch failed")
    except RuntimeError:
        pass
    async with UnitOfWork(make_session_factory(engine)) as uow:
        assert list(await uow.session.scalars(select(Outbox))) == []
