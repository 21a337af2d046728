"""aiosqlite, with SQLite's calls run on the event loop's own thread unless they may wait.

aiosqlite runs every call on a worker thread: each `execute`, `fetchall` and `close` is a hop there
and back, about 100 µs on a 2-core VM, for statements that take SQLite a few µs. A Claim click is a
dozen such calls, so hops were a third of its time. Here a call runs inline instead, except:
- BEGIN IMMEDIATE when another process holds the write lock: it is tried inline without waiting and,
  if the database is locked, handed to the worker thread, which waits on busy_timeout there;
- anything inside `offloaded()`: long report and export queries, which would otherwise stall every
  other request for their duration.
SQLite's automatic checkpoint is off on these connections: it ran inside a COMMIT every 1,000 pages
and held the loop for up to 100 ms (fsyncs). Instead, once the WAL file passes `CHECKPOINT_BYTES`
(also its size limit, so it is cut back after each restart), a PASSIVE checkpoint runs on a thread
with a connection of its own; it never waits for, or blocks, readers and writers, and the next
writer restarts the WAL from its beginning.
Calls never overlap either way (SQLAlchemy awaits each before the next), so one sqlite3 connection
used from both threads is safe (check_same_thread=False, SQLite's serialized mode).

Writers wait for a running checkpoint once the WAL has grown well past the limit (writes outpace
checkpoints: each ends behind new frames and the WAL is never restarted). Background work marked
`background_writes` (an SLA pass) waits first, at 4× the limit, and before it takes the connection
(`make_room`), so requests queued for SQLite's one connection never wait behind its wait; a request
waits only at 16×, a bound the background's waits normally keep the WAL well under.

Reports read on connections of their own (`ReadConnection`, bot.storage.db.make_read_engine): plain
aiosqlite, every call on its worker thread, none of the writer's bookkeeping. A reader's snapshot
holds checkpoints back (they cannot copy frames written after it), so the WAL grows while it reads;
writers then stop waiting for checkpoints, which could not cut it back before the reader is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sqlite3
import weakref
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

import aiosqlite

log = logging.getLogger(__name__)

CHECKPOINT_BYTES = 4 * 1024 * 1024  # SQLite's own default: 1,000 pages of 4 KiB
STAT_EVERY = 8  # commits between two looks at the WAL's size (a few pages each)
BACKGROUND_WAIT = 4  # × CHECKPOINT_BYTES: background work waits for a running checkpoint past this
REQUEST_WAIT = 16  # × CHECKPOINT_BYTES: a request's transaction, only past this

P = ParamSpec("P")
T = TypeVar("T")

_offload: ContextVar[bool] = ContextVar("sqlite_offload", default=False)
_background: ContextVar[bool] = ContextVar("sqlite_background", default=False)
# the file's writer connection (WAL path → connection), for background work to wait on its checkpoint
_writers: weakref.WeakValueDictionary[str, LoopConnection] = weakref.WeakValueDictionary()


def background_writes(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Decorates an async function whose writes are background work (an SLA pass): its units of
    work give way to requests while a checkpoint catches up (`make_room`)."""

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        token = _background.set(True)
        try:
            return await fn(*args, **kwargs)
        finally:
            _background.reset(token)

    return run


def in_background() -> bool:
    return _background.get()


async def make_room(database: str) -> None:
    """Background work's wait, before it takes the connection: for the checkpoint under way once
    the WAL has passed BACKGROUND_WAIT × the limit. An SLA rewind that waited at BEGIN held SQLite's
    one connection 20-40 ms a time, and requests queued behind it (p99 55 ms, bench.jobs)."""
    writer = _writers.get(f"{_file_path(database)}-wal")
    if writer is not None and writer._checkpoint is not None and writer._must_wait(BACKGROUND_WAIT):
        await asyncio.shield(writer._checkpoint)


@contextlib.contextmanager
def offloaded() -> Iterator[None]:
    """Run this task's SQLite calls on the worker thread: for queries that take many milliseconds."""
    token = _offload.set(True)
    try:
        yield
    finally:
        _offload.reset(token)


def slow_query(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Decorates an async function whose queries scan many rows: they run `offloaded()`."""

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with offloaded():
            return await fn(*args, **kwargs)

    return run


def _is_begin(args: tuple[Any, ...]) -> bool:
    return bool(args) and isinstance(args[0], str) and args[0].lstrip()[:5].upper() == "BEGIN"


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


class LoopConnection(aiosqlite.Connection):
    _busy_timeout_ms: int | None = None
    _checkpoint: asyncio.Future[bool] | None = None
    # the last checkpoint stopped short of the WAL's end: a reader's snapshot holds it back
    _held_back = False
    _commits = 0
    _checkpoint_started_at = 0  # the WAL's size when the last checkpoint started

    def __init__(
        self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int, path: str | None
    ) -> None:
        super().__init__(connector, iter_chunk_size)
        self._wal = f"{path}-wal" if path else None
        if self._wal is not None:
            _writers[self._wal] = self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if _offload.get() and _is_begin(args):
            # offloaded work waits on its thread, a BEGIN for as long as the busy_timeout says
            result = await super()._execute(self._begin_waiting, fn, *args, **kwargs)
        elif _offload.get():
            result = await super()._execute(fn, *args, **kwargs)
        elif _is_begin(args):
            result = await self._begin(fn, *args, **kwargs)
        else:
            result = fn(*args, **kwargs)
        if getattr(fn, "__name__", "") == "commit":
            self._checkpoint_if_due()
        return result

    def _wal_size(self) -> int:
        try:
            return os.stat(self._wal).st_size if self._wal else 0
        except OSError:
            return 0

    def _checkpoint_if_due(self) -> None:
        if self._wal is None or (self._checkpoint is not None and not self._checkpoint.done()):
            return
        self._commits += 1
        if self._commits % STAT_EVERY:
            return  # a stat per commit was 2% of a quick add's CPU; the limit is not that exact
        size = self._wal_size()
        if size <= CHECKPOINT_BYTES:
            return
        if self._checkpoint_started_at <= size < self._checkpoint_started_at + CHECKPOINT_BYTES // 4:
            # Under a steady stream of writes a checkpoint ends behind new frames, so the WAL is
            # not restarted and stays past the limit: the next one waits for a quarter of the
            # limit's worth of new frames, not just 8 commits (bench.ack's 1,500 quick adds ran
            # 106 checkpoints → 68). A size below the last one's: the WAL was restarted since.
            return
        self._checkpoint_started_at = size
        self._checkpoint = asyncio.get_running_loop().run_in_executor(None, _checkpoint, self._wal[:-4])
        self._checkpoint.add_done_callback(self._checkpointed)

    def _checkpointed(self, done: asyncio.Future[bool]) -> None:
        if not done.cancelled() and done.exception() is None:
            self._held_back = not done.result()

    def _must_wait(self, times: int) -> bool:
        """Whether a writer should wait for the running checkpoint: writes outpace checkpoints
        (each one finishes behind new frames, so the WAL is never restarted) and the WAL is past
        `times` × the limit; after the wait the writer restarts the WAL itself. Not while a reader
        holds them back (a report's snapshot): no checkpoint can restart the WAL before it ends,
        and every writer would wait on every checkpoint until then."""
        return (
            self._checkpoint is not None
            and not self._checkpoint.done()
            and not self._held_back
            and self._wal_size() > times * CHECKPOINT_BYTES
        )

    async def _begin(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._checkpoint is not None and self._must_wait(REQUEST_WAIT):
            await asyncio.shield(self._checkpoint)
        conn = self._conn
        if self._busy_timeout_ms is None:
            # Once a transaction holds the write lock, none of its statements waits for a lock
            # (WAL: readers never block the writer; checkpoints run on a connection of their own),
            # so the timeout stays 0 and is raised only for a BEGIN that must wait for another
            # process (below): two PRAGMAs a transaction fewer.
            self._busy_timeout_ms = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
            conn.execute("PRAGMA busy_timeout=0")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if not _is_locked(exc):
                raise
        # another process is writing: wait for it on the worker thread, not on the event loop
        return await super()._execute(self._begin_waiting, fn, *args, **kwargs)

    def _begin_waiting(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """On the worker thread: the BEGIN with the connection's own busy_timeout (not yet lowered
        when no BEGIN ran on the loop before)."""
        if self._busy_timeout_ms is None:
            return fn(*args, **kwargs)
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        try:
            return fn(*args, **kwargs)
        finally:
            conn.execute("PRAGMA busy_timeout=0")


class ReadConnection(aiosqlite.Connection):
    """A report's connection: aiosqlite as it is, every call on its worker thread, so a scan of
    100k rows never holds the loop. None of LoopConnection's bookkeeping: its deferred BEGIN takes
    no lock to wait for (WAL), and it commits no frames to checkpoint."""


def _checkpoint(path: str) -> bool:
    """A PASSIVE checkpoint; whether it reached the WAL's end (not when a reader's snapshot is
    older than the WAL's last frames: those cannot be copied into the database before it ends)."""
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=1, check_same_thread=False)) as conn:
            busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if busy == 0 and copied >= frames:
                return True
            # a commit that landed meanwhile leaves its frames behind too (1 checkpoint in 50 under
            # steady writes): a second pass copies them, a reader's older snapshot stops it short
            _, _, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            return bool(copied >= frames)
    except sqlite3.Error as exc:  # the next commit past the threshold tries again
        log.warning("SQLite checkpoint failed: %s", exc)
        return True


def _file_path(database: str) -> str:
    return database.removeprefix("file:").split("?", 1)[0] if database.startswith("file:") else database


def connect(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> LoopConnection:
    """aiosqlite.connect's twin, for SQLAlchemy's `async_creator_fn` (see bot.storage.db)."""
    kwargs["check_same_thread"] = False

    def connector() -> sqlite3.Connection:
        conn = sqlite3.connect(database, **kwargs)
        conn.execute("PRAGMA wal_autocheckpoint=0")
        # a WAL that passed the limit is cut back to it when the next writer restarts it, so its
        # size tells whether frames have piled up past the limit since the last checkpoint
        conn.execute(f"PRAGMA journal_size_limit={CHECKPOINT_BYTES}")
        return conn

    memory = database == ":memory:" or "mode=memory" in database
    connection = LoopConnection(connector, iter_chunk_size, None if memory else _file_path(database))
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite: never hold up exit
    return connection


def connect_reader(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> ReadConnection:
    """A report's connection, for the read engine's `async_creator_fn` (bot.storage.db)."""
    kwargs["check_same_thread"] = False
    connection = ReadConnection(lambda: sqlite3.connect(database, **kwargs), iter_chunk_size)
    connection._thread.daemon = True
    return connection
