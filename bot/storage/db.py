"""Engine and session factory: built from a URL and passed in, never module globals."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import aiosqlite
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import await_

from bot.storage import sqlite_driver

IDLE_PING_SECONDS = 30.0  # a pooled PostgreSQL connection idle longer is pinged before use
# SQLite connections for reports: two kept open, two more while reports pile up (each one a thread
# and up to 2 MB of page cache)
READ_POOL_SIZE, READ_POOL_OVERFLOW = 2, 2


def is_sqlite(engine_or_url: AsyncEngine | str) -> bool:
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return url.startswith("sqlite")


def _in_memory(url: str) -> bool:
    return ":memory:" in url or "mode=memory" in url


class CountingPool(AsyncAdaptedQueuePool):
    """The async queue pool, counting the checkouts that wait for a connection: long background
    work (an SLA pass) commits early and gives way when a request waits (SQLite has one)."""

    waiting = 0
    # log where SQLAlchemy's own pools do (quiet unless asked: "Pool recreating" is not news)
    _sqla_logger_namespace = "sqlalchemy.pool.impl.CountingPool"

    def _do_get(self) -> ConnectionPoolEntry:
        # a checkout that finds a free connection returns without a turn of the loop, so only the
        # ones that really wait are ever seen in the count
        self.waiting += 1
        try:
            return super()._do_get()
        finally:
            self.waiting -= 1


def connections_wanted(engine: AsyncEngine) -> bool:
    """Whether some task waits for one of the engine's connections now."""
    pool = engine.sync_engine.pool
    return isinstance(pool, CountingPool) and pool.waiting > 0


async def room_for_background(factory: async_sessionmaker[AsyncSession]) -> None:
    """Background work, before it takes a connection: on a SQLite file, wait while a checkpoint
    catches up with a WAL grown far past its limit (bot.storage.sqlite_driver.make_room)."""
    engine = factory.kw.get("bind")
    if isinstance(engine, AsyncEngine) and is_sqlite(engine) and not _in_memory(str(engine.url)):
        await sqlite_driver.make_room(engine.url.database or "")


def make_engine(url: str, *, echo: bool = False, pool_size: int = 20) -> AsyncEngine:
    """An async engine with the same behaviour on SQLite (WAL, foreign keys) and PostgreSQL."""
    # SQL in the logs (echo, DEBUG) without its parameters: they are lead data (bot/logs.py)
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if is_sqlite(url):
        # WAL lets readers run beside the writer; busy_timeout waits instead of failing on a lock
        kwargs["connect_args"] = {"timeout": 30}
        # Every transaction is BEGIN IMMEDIATE (below), so only one can run at a time anyway. With one
        # pooled connection, the others queue in-process, first come first served, and start the
        # moment it is free; with several connections they queued in SQLite's busy handler, which
        # polls with sleeps growing to 100 ms (benchmark: claim p99 1.7 s at 20 concurrent clicks).
        # Other processes (e.g. `handoff import`) still wait on busy_timeout. No pre-ping: a file
        # does not drop connections.
        if not _in_memory(url):  # in-memory: a StaticPool already
            kwargs.update(poolclass=CountingPool, pool_size=1, max_overflow=0, pool_timeout=60)
    else:
        # no pool_pre_ping: its ping is three round trips (BEGIN, `;`, ROLLBACK) on every checkout, a
        # third of a Claim's; _check_on_checkout below does without them
        # connections past pool_size are closed when handed back, and opening one costs several
        # round trips: pool_size should cover the requests in flight at once (HANDOFF_DB_POOL_SIZE)
        kwargs.update(
            poolclass=CountingPool, pool_size=pool_size, max_overflow=pool_size // 2, pool_recycle=1800
        )
    engine = create_async_engine(url, **kwargs)
    if not is_sqlite(url):
        dialect = engine.sync_engine.dialect
        event.listen(engine.sync_engine, "checkin", _mark_idle)
        event.listen(
            engine.sync_engine, "checkout", lambda conn, record, _: _check_on_checkout(dialect, conn, record)
        )
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        event.listen(engine.sync_engine, "do_connect", _sqlite_on_loop)
    return engine


def make_read_engine(url: str, *, echo: bool = False) -> AsyncEngine | None:
    """On a SQLite file, an engine for reports that read a lot (the digest, exports, scoreboards):
    connections of their own, read-only, whose deferred transactions read a snapshot beside the
    writer (WAL) instead of queueing for make_engine's one connection. None elsewhere: read
    through the main engine (PostgreSQL has a pool of its own; an in-memory database is one
    connection, a second would be another, empty database)."""
    if not is_sqlite(url) or _in_memory(url):
        return None
    engine = create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        connect_args={"timeout": 30},  # busy_timeout: a reader waits only while the WAL is recovered
        poolclass=AsyncAdaptedQueuePool,
        pool_size=READ_POOL_SIZE,
        max_overflow=READ_POOL_OVERFLOW,
        pool_timeout=300,  # behind other reports, never behind a request
    )
    event.listen(engine.sync_engine, "do_connect", _sqlite_reader)
    event.listen(engine.sync_engine, "connect", _sqlite_read_pragmas)
    event.listen(engine.sync_engine, "begin", _sqlite_begin_deferred)
    return engine


def _mark_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _check_on_checkout(dialect: Any, dbapi_connection: Any, record: Any) -> None:
    """Hand out no connection the server has dropped. A restart closes every connection's socket,
    which asyncpg notices at once (no round trip to ask); a connection idle for IDLE_PING_SECONDS
    may have been dropped silently (a firewall, a failover) and is pinged. Raising makes the pool
    throw it away and take another."""
    if dbapi_connection.driver_connection.is_closed():
        # the server went away: every connection made before now is as dead as this one
        raise exc.InvalidatePoolError("connection closed by the server")
    idle_since = record.info.get("idle_since")
    if idle_since is not None and time.monotonic() - idle_since > IDLE_PING_SECONDS:
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError(f"ping failed: {type(error).__name__}") from error


def _sqlite_on_loop(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    # the URL's own arguments, but SQLite's calls run on the event loop (bot.storage.sqlite_driver)
    return dialect.dbapi.connect(*cargs, async_creator_fn=sqlite_driver.connect, **cparams)


def _sqlite_reader(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    # every call on the driver's worker thread (bot.storage.sqlite_driver.ReadConnection)
    return dialect.dbapi.connect(*cargs, async_creator_fn=sqlite_driver.connect_reader, **cparams)


def _sqlite_read_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # BEGIN is ours (below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # already, unless no writer ever opened the file
    # a write through a report's unit of work fails loudly: "attempt to write a readonly database"
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN; we issue it ourselves (see below)
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_deferred(conn: Any) -> None:
    # a plain BEGIN takes no lock: its first read fixes the snapshot the whole transaction sees,
    # and in WAL mode it never waits for the writer nor holds it up (pysqlite's own handling
    # would not BEGIN before a SELECT at all: each statement would read its own snapshot)
    _sqlite_begin(conn, "BEGIN")


def _sqlite_begin_immediate(conn: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front, so two writers queue on busy_timeout
    # instead of one failing with "database is locked" when it upgrades a read lock.
    # Sent straight to our driver (bot.storage.sqlite_driver: inline, or on its thread while
    # another process holds the lock): SQLAlchemy's statement execution and aiosqlite's cursor
    # around it were a fifth of a unit of work's CPU (172 → 99 µs to get the connection), for a statement that returns nothing.
    # Errors are raised as SQLAlchemy's, as before.
    _sqlite_begin(conn, "BEGIN IMMEDIATE")


def _sqlite_begin(conn: Any, statement: str) -> None:
    driver: aiosqlite.Connection = conn.connection.driver_connection
    try:
        await_(driver._execute(driver._conn.execute, statement))
    except sqlite3.Error as error:
        raise exc.DBAPIError.instance(statement, [], error, sqlite3.Error, hide_parameters=True) from error


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
