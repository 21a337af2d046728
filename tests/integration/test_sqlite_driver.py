"""SQLite's calls run on the event loop, except a BEGIN that must wait for another process's write
lock and work marked `offloaded()`; the WAL is checkpointed off the loop and stays bounded, and
background work waits for a checkpoint to catch up before it takes the connection."""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.storage import sqlite_driver
from bot.storage.db import make_engine, make_read_engine, make_session_factory
from bot.storage.uow import UnitOfWork


async def test_calls_run_on_the_loop_thread_unless_offloaded(tmp_path: Path) -> None:
    conn = await sqlite_driver.connect(str(tmp_path / "t.db"))
    try:
        assert await conn._execute(threading.get_ident) == threading.get_ident()
        with sqlite_driver.offloaded():
            assert await conn._execute(threading.get_ident) != threading.get_ident()
        assert await conn._execute(threading.get_ident) == threading.get_ident()
    finally:
        await conn.close()


async def test_a_begin_that_must_wait_for_another_process_does_not_stall_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock

        async def write() -> None:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (1)"))

        writer = asyncio.create_task(write())
        ticks = 0
        for _ in range(10):  # the loop keeps turning while the writer waits on the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 10 and not writer.done()
        other.execute("INSERT INTO t VALUES (0)")
        other.execute("COMMIT")
        await asyncio.wait_for(writer, timeout=10)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT x FROM t ORDER BY x"))).scalars().all() == [0, 1]
        other.close()
    finally:
        await engine.dispose()


async def test_a_failing_statement_still_raises(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    try:
        with pytest.raises(Exception, match="no such table"):
            async with engine.begin() as conn:
                await conn.execute(text("SELECT * FROM missing"))
        async with engine.begin() as conn:  # the connection is usable afterwards
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()


@pytest.mark.parametrize("background", [False, True], ids=["requests", "background"])
async def test_the_wal_is_checkpointed_off_the_loop_and_stays_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, background: bool
) -> None:
    """Writes that outpace checkpoints wait for them: a request's unit of work past 16× the limit,
    background work's past 4×, so the WAL stays within a few times that."""
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_BYTES", 64 * 1024)
    path = tmp_path / "t.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    factory = make_session_factory(engine)

    async def write(x: str) -> None:
        async with UnitOfWork(factory) as uow:
            await uow.session.execute(text("INSERT INTO t VALUES (:x)"), {"x": x})

    if background:
        write = sqlite_driver.background_writes(write)
    try:
        async with engine.begin() as conn:
            assert (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == 0
            await conn.execute(text("CREATE TABLE t (x TEXT)"))
        largest = 0
        for _ in range(400):  # ~6 MB in all, in 16 KB commits
            await write(os.urandom(8 * 1024).hex())
            await asyncio.sleep(0)  # let a finished checkpoint be noticed
            largest = max(largest, os.stat(f"{path}-wal").st_size)
        waits_at = sqlite_driver.BACKGROUND_WAIT if background else sqlite_driver.REQUEST_WAIT
        assert largest < 2 * waits_at * sqlite_driver.CHECKPOINT_BYTES, f"WAL grew to {largest} bytes"
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 400
    finally:
        await engine.dispose()


async def test_background_work_waits_for_a_checkpoint_before_it_takes_the_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past 4× the limit, background work (an SLA pass) waits for the running checkpoint before
    it takes SQLite's one connection, so a request goes meanwhile; it did wait at its BEGIN,
    holding the connection, and requests queued behind it (bench.jobs: 20-40 ms a time)."""
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_BYTES", 64 * 1024)
    path = tmp_path / "t.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    factory = make_session_factory(engine)
    real_checkpoint = sqlite_driver._checkpoint
    gate = threading.Event()

    def slow_checkpoint(path: str) -> bool:  # fsyncs on a busy disk
        gate.wait(30)
        return real_checkpoint(path)

    async def write(x: str) -> None:
        async with UnitOfWork(factory) as uow:
            await uow.session.execute(text("INSERT INTO t VALUES (:x)"), {"x": x})

    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x TEXT)"))
            driver = (await conn.get_raw_connection()).driver_connection
        monkeypatch.setattr(sqlite_driver, "_checkpoint", slow_checkpoint)
        written = 0
        while (
            os.stat(f"{path}-wal").st_size <= sqlite_driver.BACKGROUND_WAIT * sqlite_driver.CHECKPOINT_BYTES
        ):
            await write(os.urandom(8 * 1024).hex())  # requests: they do not wait for it yet
            written += 1
        assert driver._checkpoint is not None and not driver._checkpoint.done()  # started, and hangs
        job = asyncio.create_task(sqlite_driver.background_writes(write)("job"))
        await asyncio.sleep(0.2)
        assert not job.done()  # waiting for the checkpoint…
        async with asyncio.timeout(5):
            await write("request")  # …without the connection: a request goes meanwhile
        gate.set()
        await asyncio.wait_for(job, 10)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == written + 2
            order = (
                await conn.execute(text("SELECT x FROM t WHERE length(x) < 10 ORDER BY rowid"))
            ).scalars()
            assert list(order) == ["request", "job"]
    finally:
        gate.set()
        await engine.dispose()


async def test_a_wal_that_is_not_restarted_is_not_checkpointed_every_few_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes that never pause: each checkpoint ends behind new frames and the WAL stays past the
    limit. The next checkpoint waits for a quarter of the limit in new frames, not 8 commits."""
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_BYTES", 256 * 1024)
    started: list[int] = []  # the WAL's size as the driver saw it when it started each one
    # a checkpoint that never catches up: the WAL is never restarted
    monkeypatch.setattr(sqlite_driver, "_checkpoint", lambda path: None)
    path = tmp_path / "t.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x TEXT)"))
            driver = (await conn.get_raw_connection()).driver_connection
        for i in range(480):  # a page a commit: ~2 MB of WAL, past the limit after ~64 commits
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": str(i)})
            if driver._checkpoint_started_at and driver._checkpoint_started_at not in started[-1:]:
                started.append(driver._checkpoint_started_at)
            await asyncio.sleep(0)  # let a finished checkpoint be noticed
        # every 8 commits past the limit would be ~52; a quarter of the limit (64 pages) apart, ~26
        assert 20 <= len(started) <= 30, started
        assert all(b - a >= 64 * 1024 for a, b in itertools.pairwise(started)), started
    finally:
        await engine.dispose()


async def test_slow_queries_run_off_the_loop(tmp_path: Path) -> None:
    conn = await sqlite_driver.connect(str(tmp_path / "t.db"))

    @sqlite_driver.slow_query
    async def report() -> int:
        return await conn._execute(threading.get_ident)

    try:
        assert await report() != threading.get_ident()
        assert await conn._execute(threading.get_ident) == threading.get_ident()  # only inside
    finally:
        await conn.close()


async def test_an_offloaded_begin_still_waits_for_another_process(tmp_path: Path) -> None:
    # the loop's connection keeps busy_timeout at 0 between transactions; an offloaded BEGIN
    # (a long report's transaction) must still wait for the lock rather than fail at once
    path = tmp_path / "t.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:  # a first BEGIN on the loop lowers the timeout
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")

        async def report() -> None:
            with sqlite_driver.offloaded():
                async with engine.begin() as conn:
                    await conn.execute(text("INSERT INTO t VALUES (1)"))

        writer = asyncio.create_task(report())
        await asyncio.sleep(0.2)
        assert not writer.done()  # waiting, not failed with "database is locked"
        other.execute("COMMIT")
        await asyncio.wait_for(writer, timeout=10)
        other.close()
    finally:
        await engine.dispose()


async def test_a_begin_that_fails_raises_sqlalchemys_error(tmp_path: Path) -> None:
    # the begin event sends BEGIN IMMEDIATE to the driver itself; its errors still reach callers
    # as SQLAlchemy's (the outbox recorder, for one, catches DBAPIError)
    path = tmp_path / "t.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            raw.driver_connection._busy_timeout_ms = 0  # wait no time on the worker thread either
            await conn.rollback()
        with pytest.raises(OperationalError, match="locked"):
            async with engine.begin() as conn:
                await conn.execute(text("SELECT 1"))
        other.execute("ROLLBACK")
        other.close()
    finally:
        await engine.dispose()


async def test_writers_do_not_wait_for_checkpoints_a_reader_holds_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A report's snapshot (make_read_engine) keeps every checkpoint short of the WAL's end, so the
    # WAL grows past 4× the limit while it reads; writers must not then wait for each checkpoint
    # (they could not restart the WAL anyway), and once it is done the WAL is cut back again.
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_BYTES", 64 * 1024)
    path = tmp_path / "t.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    reader = make_read_engine(f"sqlite+aiosqlite:///{path}")
    assert reader is not None

    async def write(commits: int) -> None:
        for _ in range(commits):  # 16 KB a commit
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": os.urandom(8 * 1024).hex()})
            await asyncio.sleep(0)  # let a finished checkpoint be noticed

    real_checkpoint = sqlite_driver._checkpoint
    gate = threading.Event()

    def slow_checkpoint(path: str) -> bool:  # fsyncs on a busy disk
        gate.wait(30)
        return real_checkpoint(path)

    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x TEXT)"))
            driver = (await conn.get_raw_connection()).driver_connection
        async with reader.connect() as report, report.begin():
            assert (await report.execute(text("SELECT count(*) FROM t"))).scalar() == 0  # its snapshot
            await write(40)  # 640 KB of WAL, checkpointed only up to the snapshot
            assert driver._checkpoint is not None
            await asyncio.wait_for(asyncio.shield(driver._checkpoint), 10)
            assert os.stat(f"{path}-wal").st_size > 4 * sqlite_driver.CHECKPOINT_BYTES
            monkeypatch.setattr(sqlite_driver, "_checkpoint", slow_checkpoint)
            async with asyncio.timeout(10):
                await write(40)  # a checkpoint starts and hangs; no writer waits for it
            assert not driver._checkpoint.done()
            gate.set()
            await asyncio.wait_for(asyncio.shield(driver._checkpoint), 10)
        monkeypatch.setattr(sqlite_driver, "_checkpoint", real_checkpoint)
        commits = 80
        async with asyncio.timeout(20):  # the first checkpoint copies the 2 MB the snapshot held back
            while os.stat(f"{path}-wal").st_size > 4 * sqlite_driver.CHECKPOINT_BYTES:
                await write(1)
                commits += 1
        async with reader.connect() as report:
            assert (await report.execute(text("SELECT count(*) FROM t"))).scalar() == commits
    finally:
        gate.set()
        await reader.dispose()
        await engine.dispose()


def test_a_checkpoint_says_whether_a_reader_held_it_back(tmp_path: Path) -> None:
    path = str(tmp_path / "t.db")
    writer = sqlite3.connect(path, isolation_level=None)
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("CREATE TABLE t (x INTEGER)")
        writer.execute("INSERT INTO t VALUES (1)")
        assert sqlite_driver._checkpoint(path)  # nobody reads: it reaches the WAL's end
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()  # a snapshot older than what follows
        writer.execute("INSERT INTO t VALUES (2)")
        assert not sqlite_driver._checkpoint(path)
        reader.execute("COMMIT")
        assert sqlite_driver._checkpoint(path)
    finally:
        reader.close()
        writer.close()
