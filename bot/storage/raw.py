"""Hot-path statements through the driver itself, inside the unit of work's own transaction (issue 22).

The ORM costs a Claim about a millisecond of CPU on top of the SQL: building each statement and its
cache key, the unit of work's flush, loading rows into the identity map. The few statements every
Claim and quick add runs skip all of that here: plain SQL (`?` placeholders, numbered for asyncpg),
run on the DBAPI connection the session's transaction already holds — so they commit or roll back
with everything else the transaction wrote through the ORM. Values go in and come out through the
columns' own SQLAlchemy type processors for the dialect (UTC datetimes, JSON, booleans), exactly as
the ORM would store and read them.

Rows come back as mapped instances outside the session (`snapshot`): readable like any loaded
object, never flushed. A lead the session already holds is refreshed in place instead, so an object
read earlier in the transaction never shows the row as it was.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Float, FromClause, Numeric, Table, event, exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, attributes
from sqlalchemy.orm.util import identity_key
from sqlalchemy.util import await_only, greenlet_spawn

from bot.storage.sqlite_driver import LoopConnection

M = TypeVar("M")
SQL_LOG = logging.getLogger("sqlalchemy.engine.Engine")
Processor = Callable[[Any], Any] | None

_PLACEHOLDER = re.compile(r"\?")
NUMERIC_OID, FLOAT8_OID = 1700, 701  # PostgreSQL's numeric and double precision
MAX_PARAMS = 10_000  # per statement: well under SQLite's 32,766 and asyncpg's 32,767


@functools.lru_cache(maxsize=256)
def numbered(sql: str) -> str:
    """`?` placeholders as asyncpg's `$1, $2, …` (no statement of ours has a literal `?`)."""
    count = itertools.count(1)
    return _PLACEHOLDER.sub(lambda _: f"${next(count)}", sql)


@dataclass(frozen=True)
class Codec:
    """How one table's columns are bound and read on one dialect: SQLAlchemy's own processors."""

    table: Table
    names: tuple[str, ...]
    binds: dict[str, Processor]
    results: tuple[Processor, ...]
    json_null: frozenset[str]  # columns where None is stored as JSON's null, as the ORM does
    defaults: dict[str, Any]  # the columns' constant Python defaults, which the ORM would fill in

    @property
    def column_list(self) -> str:
        return ", ".join(self.names)

    def bind(self, name: str, value: Any) -> Any:
        process = self.binds[name]
        if process is None or (value is None and name not in self.json_null):
            return value
        return process(value)

    def row(self, values: Sequence[Any]) -> dict[str, Any]:
        return {
            name: (value if value is None or process is None else process(value))
            for name, process, value in zip(self.names, self.results, values, strict=True)
        }


@functools.lru_cache(maxsize=64)
def codec(mapped: FromClause, dialect: Dialect, names: tuple[str, ...] | None = None) -> Codec:
    """The codec for `names` (default: every column, in the table's order) of a model's table."""
    table = typing.cast(Table, mapped)
    names = names or tuple(column.name for column in table.columns)
    columns = [table.c[name] for name in names]
    return Codec(
        table=table,
        names=names,
        binds={c.name: c.type._cached_bind_processor(dialect) for c in table.columns},
        results=tuple(c.type._cached_result_processor(dialect, _type_code(c, dialect)) for c in columns),
        json_null=frozenset(c.name for c in table.columns if c.type.should_evaluate_none),
        defaults={
            c.name: c.default.arg  # type: ignore[attr-defined]
            for c in table.columns
            if c.default is not None and c.default.is_scalar
        },
    )


def _type_code(column: Any, dialect: Dialect) -> int | None:
    """The driver's type code a result processor may ask for: only asyncpg's numbers need one."""
    if dialect.name != "postgresql" or not isinstance(column.type, Numeric | Float):
        return None
    return FLOAT8_OID if isinstance(column.type, Float) else NUMERIC_OID


def snapshot(model: type[M], values: dict[str, Any]) -> M:
    """A mapped instance holding `values`, outside any session: attribute reads work, nothing
    about it is ever flushed (as the ORM's own loading does, the values go straight into its dict)."""
    instance = typing.cast(Any, model).__mapper__.class_manager.new_instance()
    instance.__dict__.update(values)
    return typing.cast(M, instance)


class RawSql:
    """Plain SQL on the driver connection of a session's current transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect: Dialect = session.get_bind().dialect
        self.postgres = self.dialect.name == "postgresql"
        # the session's (transaction, savepoint), their connection and its DBAPI connection
        self._held: tuple[tuple[object, object], Connection, Any] | None = None
        # PostgreSQL: INSERTs waiting to ride with the transaction's next statement (see `write`)
        self.deferred: list[Deferred] = []

    def codec(self, table: FromClause, names: tuple[str, ...] | None = None) -> Codec:
        return codec(table, self.dialect, names)

    def _transaction_now(self) -> tuple[object, object]:
        session = self.session.sync_session
        return session.get_transaction(), session.get_nested_transaction()

    async def _connection(self) -> tuple[Connection, Any]:
        transaction = self._transaction_now()
        if self._held is not None and self._held[0] == transaction and transaction[0] is not None:
            return self._held[1], self._held[2]
        # through the session each time the transaction changes: it begins one if none is open yet
        # (BEGIN IMMEDIATE on SQLite, bot.storage.db) and emits a savepoint's SAVEPOINT, which it
        # does only when the savepoint's first statement asks for the connection
        sync, adapted = await greenlet_spawn(_connection_of, self.session.sync_session)
        self._held = (self._transaction_now(), sync, adapted)
        return sync, adapted

    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        """The rows a statement returns (a SELECT, or DML with RETURNING)."""
        rows, _ = await self._run(sql, params, fetch=True)
        return rows

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; the rows it changed."""
        _, count = await self._run(sql, params, fetch=False)
        return count

    async def insert(self, table: FromClause, values: dict[str, Any]) -> None:
        """INSERT one row of `values` (column name → value; a column's constant default fills in
        when it is not given, as the ORM's would — a computed one is the caller's to give)."""
        codec = self.codec(table)
        values = {**codec.defaults, **values}
        names = tuple(values)
        sql = f"INSERT INTO {codec.table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        await self.write(codec.table.name, sql, [codec.bind(name, value) for name, value in values.items()])

    async def insert_many(
        self, table: FromClause, rows: Sequence[dict[str, Any]], *, returning: bool = False
    ) -> list[dict[str, Any]]:
        """INSERT rows (each with the same keys) in multi-row statements, constant defaults filled
        in as in `insert`; with `returning`, every column of the rows stored, read back as the ORM
        would."""
        if not rows:
            return []
        codec = self.codec(table)
        rows = [{**codec.defaults, **row} for row in rows]
        names = tuple(rows[0])
        group = f"({', '.join('?' * len(names))})"
        head = f"INSERT INTO {codec.table.name} ({', '.join(names)}) VALUES "
        tail = f" RETURNING {codec.column_list}" if returning else ""
        stored: list[dict[str, Any]] = []
        per_statement = max(1, MAX_PARAMS // len(names))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params = [codec.bind(name, row[name]) for row in chunk for name in names]
            sql = head + ", ".join([group] * len(chunk)) + tail
            if returning:
                stored += [codec.row(row) for row in await self.rows(sql, params)]
            else:
                await self.write(codec.table.name, sql, params)
        return stored

    async def write(self, table: str, sql: str, params: list[Any]) -> None:
        """An INSERT nothing reads back at once. SQLite runs it now (a call, no round trip). On
        PostgreSQL it waits and goes in the same round trip as the transaction's next statement (in a
        data-modifying WITH, whose parts always run in full), or on its own before the ORM's next
        statement or flush, a savepoint's end and the commit, whichever comes first: a Claim's event
        and card row go with its webhook lookup, a quick add's decision, card and event rows too."""
        if not self.postgres:
            await self.execute(sql, params)
            return
        if any(waiting.table == table for waiting in self.deferred) or (
            sum(len(waiting.params) for waiting in self.deferred) + len(params) > MAX_PARAMS
        ):
            # one INSERT per table in a statement (its parts run in no set order): ids stay in the
            # order rows were queued, which is the order the outbox sends a channel's messages; and
            # a statement with the next one's parameters stays under the driver's 32,767
            await self.send_deferred()
        self.deferred.append(Deferred(table, sql, params))

    async def send_deferred(self) -> None:
        """Send the waiting INSERTs now, in one statement."""
        if self.deferred:
            waiting, self.deferred = self.deferred, []
            sql, params = riding_along(waiting, None)
            await self._send(sql, params, fetch=False, parts=[w.sql for w in waiting])

    def forget_deferred(self, since: int = 0) -> None:
        """The INSERTs queued after the first `since` never happened (their transaction or
        savepoint was rolled back before they were sent)."""
        del self.deferred[since:]

    async def _run(self, sql: str, params: Sequence[Any], *, fetch: bool) -> tuple[list[Any], int]:
        if not self.deferred:
            return await self._send(sql, params, fetch=fetch, parts=[sql])
        if fetch and reads_none_of(sql, self.deferred):
            waiting, self.deferred = self.deferred, []
            merged, merged_params = riding_along(waiting, (sql, params))
            return await self._send(merged, merged_params, fetch=True, parts=[*(w.sql for w in waiting), sql])
        await self.send_deferred()
        return await self._send(sql, params, fetch=fetch, parts=[sql])

    async def _send(
        self, sql: str, params: Sequence[Any], *, fetch: bool, parts: Sequence[str]
    ) -> tuple[list[Any], int]:
        if not self.session.sync_session._is_clean():
            # what the ORM holds unwritten goes first, as its autoflush would before a statement
            await self.session.flush()
        connection, adapted = await self._connection()
        if SQL_LOG.isEnabledFor(logging.INFO) or connection.dispatch.before_cursor_execute:
            # what listens to every statement (tests counting them, or slowing them down) sees
            # these too, called in SQLAlchemy's greenlet as from any other statement
            await greenlet_spawn(_announce, connection, parts, params)
        try:
            if self.postgres:
                return await _asyncpg(adapted, numbered(sql), params, fetch=fetch)
            return await _sqlite(adapted._connection, sql, params, fetch=fetch)
        except exc.DBAPIError:
            raise
        except Exception as error:
            if self.postgres and adapted._connection.is_closed():
                # as SQLAlchemy does on a disconnect: this connection never goes back to the pool
                await greenlet_spawn(connection.invalidate, error)
                self._held = None
            raise self._translated(error, sql, params) from error

    def _translated(self, error: Exception, sql: str, params: Sequence[Any]) -> Exception:
        """The driver's error as the ORM would raise it (IntegrityError for a unique violation…)."""
        dbapi = self.dialect.loaded_dbapi
        if not isinstance(error, dbapi.Error):
            translate = getattr(dbapi, "_asyncpg_error_translate", {})
            for kind in type(error).__mro__:
                if kind in translate:
                    error = translate[kind](error.args[0] if error.args else str(error), error)
                    break
        return exc.DBAPIError.instance(sql, list(params), error, dbapi.Error, hide_parameters=True)

    def refreshed(self, model: type[M], values: dict[str, Any]) -> M:
        """The instance for a row just read or written: the session's own, updated in place when it
        holds one (as populate_existing would), else a snapshot."""
        key = identity_key(model, (values["id"],))
        held = self.session.sync_session.identity_map.get(key)
        if held is None:
            return snapshot(model, values)
        for name, value in values.items():
            attributes.set_committed_value(held, name, value)
        return typing.cast(M, held)


def _connection_of(session: Session) -> tuple[Connection, Any]:
    """The session's connection and its DBAPI connection, in one trip to SQLAlchemy's greenlet
    (AsyncSession.connection() and get_raw_connection() were two: ~15 µs each)."""
    connection = session.connection()
    adapted = connection.connection.dbapi_connection
    assert adapted is not None  # a connection in a transaction has one
    return connection, adapted


def _announce(connection: Connection, parts: Sequence[str], params: Sequence[Any]) -> None:
    for sql in parts:  # each statement a combined one carries, as if sent on its own
        if SQL_LOG.isEnabledFor(logging.INFO):
            SQL_LOG.info("%s", sql)  # where SQLAlchemy logs its statements, as it does: no parameters
        connection.dispatch.before_cursor_execute(connection, None, sql, params, None, False)


@dataclass(frozen=True)
class Deferred:
    table: str
    sql: str
    params: list[Any]


def reads_none_of(sql: str, deferred: Sequence[Deferred]) -> bool:
    """Whether `sql` is a plain read that names none of the tables `deferred` writes to: it may go
    in the same statement (it would not see their rows: one snapshot for all the parts)."""
    if not sql.lstrip()[:6].upper() == "SELECT":
        return False
    return not any(re.search(rf"\b{re.escape(w.table)}\b", sql) for w in deferred)


def riding_along(
    deferred: Sequence[Deferred], main: tuple[str, Sequence[Any]] | None
) -> tuple[str, list[Any]]:
    """One statement for the waiting INSERTs and `main` (default: the last INSERT): a WITH of the
    others, then it. Placeholders stay `?` in text order, so the parameters simply follow."""
    ahead = list(deferred) if main is not None else list(deferred[:-1])
    sql, params = main if main is not None else (deferred[-1].sql, deferred[-1].params)
    if not ahead:
        return sql, list(params)
    with_part = ", ".join(f"w{i} AS ({w.sql})" for i, w in enumerate(ahead))
    return f"WITH {with_part} {sql}", [p for w in ahead for p in w.params] + list(params)


def _send_deferred_first(session: Session) -> None:
    """Before the ORM's own statement, flush or commit: the INSERTs waiting on the driver go first
    (SQLAlchemy's greenlet: it awaits them in place)."""
    raw = session.info.get("raw_sql")
    if raw is None or not raw.deferred:
        return
    waiting, raw.deferred = raw.deferred, []
    connection = session.connection()
    adapted = connection.connection.dbapi_connection
    sql, params = riding_along(waiting, None)
    _announce(connection, [w.sql for w in waiting], params)
    try:
        await_only(_asyncpg(adapted, numbered(sql), params, fetch=False))
    except Exception as error:
        raise raw._translated(error, sql, params) from error


event.listen(Session, "do_orm_execute", lambda state: _send_deferred_first(state.session))
event.listen(Session, "before_flush", lambda session, *_: _send_deferred_first(session))
event.listen(Session, "before_commit", _send_deferred_first)
event.listen(Session, "after_rollback", lambda session: _forget(session))


def _forget(session: Session) -> None:
    raw = session.info.get("raw_sql")
    if raw is not None:
        raw.forget_deferred()


def raw_sql(session: AsyncSession) -> RawSql:
    """The session's RawSql (one per session, made at first use)."""
    raw = session.info.get("raw_sql")
    if raw is None:
        raw = session.info["raw_sql"] = RawSql(session)
    return typing.cast(RawSql, raw)


async def _asyncpg(adapted: Any, sql: str, params: Sequence[Any], *, fetch: bool) -> tuple[list[Any], int]:
    # the adapter (sqlalchemy.dialects.postgresql.asyncpg) starts its transaction at the first
    # statement: a raw statement that comes first must start it the same way
    async with adapted._execute_mutex:
        if adapted._transaction is None:
            await adapted._start_transaction()
        connection = adapted._connection  # asyncpg's statement cache prepares each SQL once
        if fetch:
            return list(await connection.fetch(sql, *params)), 0
        status = await connection.execute(sql, *params)
        return [], int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0


async def _sqlite(
    driver: LoopConnection, sql: str, params: Sequence[Any], *, fetch: bool
) -> tuple[list[Any], int]:
    # on the event loop, as every SQLite call of ours (bot.storage.sqlite_driver): a few µs each
    sqlite = driver._conn
    cursor = await driver._execute(sqlite.execute, sql, tuple(params))
    try:
        rows = await driver._execute(cursor.fetchall) if fetch else []
        return rows, cursor.rowcount
    finally:
        await driver._execute(cursor.close)
