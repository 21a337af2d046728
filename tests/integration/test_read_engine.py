"""Reports read on SQLite connections of their own (make_read_engine): a snapshot beside the
writer, never its lock, never on the event loop's thread, and never a write."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import make_engine, make_read_engine, make_session_factory
from bot.storage.uow import UnitOfWork
from tests.conftest import is_postgres

COUNT = text("SELECT count(*) FROM t")


@pytest.fixture
async def engines(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine, Path]]:
    path = tmp_path / "t.db"
    writer = make_engine(f"sqlite+aiosqlite:///{path}")
    async with writer.begin() as conn:
        await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        await conn.execute(text("INSERT INTO t VALUES (1)"))
    reader = make_read_engine(f"sqlite+aiosqlite:///{path}")
    assert reader is not None
    try:
        yield writer, reader, path
    finally:
        await reader.dispose()
        await writer.dispose()


async def test_a_report_reads_its_snapshot_while_the_writer_commits(engines) -> None:
    writer, reader, _ = engines
    async with reader.connect() as report, report.begin():
        assert (await report.execute(COUNT)).scalar() == 1  # the snapshot is taken here
        async with asyncio.timeout(5):  # the writer does not wait for the reader
            async with writer.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (2)"))
        assert (await report.execute(COUNT)).scalar() == 1  # still its own snapshot
    async with reader.connect() as report, report.begin():
        assert (await report.execute(COUNT)).scalar() == 2  # the next one sees the commit


async def test_a_report_reads_while_a_write_transaction_is_open(engines) -> None:
    writer, reader, _ = engines
    async with writer.begin() as conn:  # BEGIN IMMEDIATE: the write lock is held
        await conn.execute(text("INSERT INTO t VALUES (2)"))
        async with asyncio.timeout(5), reader.connect() as report, report.begin():
            assert (await report.execute(COUNT)).scalar() == 1  # the last commit, not the open write
    async with reader.connect() as report, report.begin():
        assert (await report.execute(COUNT)).scalar() == 2


async def test_a_report_never_asks_for_the_write_lock(engines) -> None:
    # a deferred BEGIN: another process's write transaction holds no report up
    _, reader, path = engines
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (3)")
        async with asyncio.timeout(5), reader.connect() as report, report.begin():
            assert (await report.execute(COUNT)).scalar() == 1
        other.execute("COMMIT")
    finally:
        other.close()


async def test_writing_through_a_report_fails(engines) -> None:
    _, reader, _ = engines
    with pytest.raises(OperationalError, match="readonly"):
        async with reader.begin() as report:
            await report.execute(text("INSERT INTO t VALUES (9)"))
    async with reader.connect() as report:  # the connection is usable afterwards
        assert (await report.execute(text("PRAGMA query_only"))).scalar() == 1
        assert (await report.execute(COUNT)).scalar() == 1


async def test_a_reports_calls_run_off_the_loop(engines) -> None:
    _, reader, _ = engines
    async with reader.connect() as report:
        driver = (await report.get_raw_connection()).driver_connection
        assert await driver._execute(threading.get_ident) != threading.get_ident()


def test_in_memory_databases_and_postgresql_read_through_the_main_engine() -> None:
    assert make_read_engine("sqlite+aiosqlite:///:memory:") is None
    assert make_read_engine("sqlite+aiosqlite:///file:x?mode=memory&cache=shared&uri=true") is None
    assert make_read_engine("postgresql+asyncpg://handoff@127.0.0.1/handoff") is None


async def test_a_repository_write_in_a_read_unit_of_work_fails(
    engine: AsyncEngine, database_url: str
) -> None:
    if is_postgres(database_url):
        pytest.skip("PostgreSQL reads through its one engine")
    reader = make_read_engine(database_url)
    assert reader is not None
    try:
        with pytest.raises(OperationalError, match="readonly"):
            async with UnitOfWork(make_session_factory(reader)) as uow:
                await uow.keys.purge_expired(datetime.now(UTC))
    finally:
        await reader.dispose()
