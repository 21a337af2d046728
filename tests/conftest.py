"""Shared fixtures: a database per run (SQLite file, or a fresh PostgreSQL database when
TEST_DATABASE_URL is set), the fake Slack, and the real bot served over HTTP."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Handoff, build_app
from bot.clock import FrozenClock
from bot.config import Settings, load_settings
from bot.outbox.pacing import Pacer
from bot.sandbox import FakeSlack, SlackDriver
from bot.sandbox.driver import SocketModeDriver
from bot.storage.db import make_engine
from bot.storage.migrate import migrate
from bot.storage.models import Base

SIGNING_SECRET = "test-signing-secret"
INTAKE_TOKEN = "test-intake-token-4f9c2a7e1b3d5f60"
SALES, MARKETING, PARTNERSHIP = "C0SALES", "C0MARKETING", "C0PARTNER"
MARKETER, REP1, REP2, ADMIN, OUTSIDER = "U0MARKETER", "U0REP1", "U0REP2", "U0ADMIN", "U0OUTSIDER"


def _admin_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _create_pg_database(base_url: str) -> str:
    import asyncpg

    name = f"handoff_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(_admin_url(base_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return base_url.rsplit("/", 1)[0] + "/" + name


async def _drop_pg_database(base_url: str, url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(_admin_url(base_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def pg_base_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+asyncpg://" + url[len(prefix) :]
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database for the whole run; each test starts from empty tables."""
    base = pg_base_url()
    if base is None:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'handoff.db'}"
    else:
        url = asyncio.run(_create_pg_database(base))

    async def _migrate() -> None:
        engine = make_engine(url)
        await migrate(engine)
        await engine.dispose()

    asyncio.run(_migrate())
    yield url
    if base is not None:
        asyncio.run(_drop_pg_database(base, url))


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


BIG_TABLE = 1000  # rows; a table this full is emptied by TRUNCATE, leaving no dead rows behind


async def truncate_all(engine: AsyncEngine) -> None:
    """Empty every table and start its ids again at 1.

    On PostgreSQL, TRUNCATE gives each table (and, by CASCADE, each table referring to it) new
    files synced at commit: 110-290 ms a test for the 30 tables on a slow disk. Most tests write a
    few rows to a few tables, so those rows are deleted and the sequences set back instead (5-30
    ms); a test that filled a table (bulk imports, the 100k-leads jobs) still gets TRUNCATE, so no
    later test scans its dead rows."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]  # children first
    async with engine.begin() as conn:
        if engine.dialect.name != "postgresql":
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))
            return
        counts = " UNION ALL ".join(
            f"SELECT '{t}', count(*) FROM (SELECT 1 FROM {t} LIMIT {BIG_TABLE + 1}) AS r" for t in tables
        )
        rows: dict[str, int] = {name: n for name, n in await conn.execute(text(counts))}
        if any(n > BIG_TABLE for n in rows.values()):
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return
        for table in tables:
            if rows[table]:
                await conn.execute(text(f"DELETE FROM {table}"))
        # every sequence of these tables that has handed out an id, rolled back or not, starts again
        await conn.execute(
            text(
                "SELECT setval(seq.oid, 1, false) FROM pg_class AS seq"
                " JOIN pg_depend AS dep ON dep.classid = 'pg_class'::regclass AND dep.objid = seq.oid"
                " AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i')"
                " JOIN pg_class AS tab ON tab.oid = dep.refobjid"
                " JOIN pg_sequences AS ps ON ps.schemaname = current_schema() AND ps.sequencename = seq.relname"
                " WHERE seq.relkind = 'S' AND tab.relname = ANY(:tables) AND ps.last_value IS NOT NULL"
            ),
            {"tables": tables},
        )


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await truncate_all(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_user(MARKETER, name="maria", real_name="Maria Marketer")
    fake.add_user(REP1, name="rob", real_name="Rob Rep")
    fake.add_user(REP2, name="rita", real_name="Rita Rep")
    fake.add_user(ADMIN, name="ada", real_name="Ada Admin", is_admin=True)
    fake.add_user(OUTSIDER, name="olly", real_name="Olly Outsider")
    fake.add_channel(SALES, name="sales", members=[REP1, REP2, ADMIN])
    fake.add_channel(MARKETING, name="marketing", members=[MARKETER, ADMIN])
    fake.add_channel(PARTNERSHIP, name="partnership", members=[MARKETER, REP1, REP2, ADMIN])
    await fake.start()
    yield fake
    await fake.stop()
    fake.assert_no_violations()


def make_settings(database_url: str, fake: FakeSlack, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": fake.bot_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.base_url,
        "database_url": database_url,
        "intake_token": INTAKE_TOKEN,
        "sales_channel": SALES,
        "marketing_channel": MARKETING,
        "partnership_channel": PARTNERSHIP,
        "admins": (ADMIN,),
        "timezone": "UTC",
    }
    values.update(overrides)
    return load_settings(**values)


def oauth_settings(database_url: str, fake: FakeSlack, **overrides: object) -> Settings:
    """OAuth mode (several workspaces, installed through /slack/install), tokens stored in plain text
    as the test database is throwaway."""
    values: dict[str, object] = {
        "slack_bot_token": None,
        "slack_client_id": "111.222",
        "slack_client_secret": "client-secret",
        "allow_plaintext_tokens": True,
    }
    values.update(overrides)
    return make_settings(database_url, fake, **values)


@dataclass
class RunningBot:
    """The real app served over HTTP, the fake Slack it talks to, and a Slack-side driver."""

    handoff: Handoff
    url: str
    fake: FakeSlack
    slack: SlackDriver
    clock: FrozenClock

    async def flush(self) -> int:
        """Let listeners that outlived their ack finish (a slow machine), then the outbox deliver
        everything due (the sender, without waiting for its poll)."""
        if self.handoff.late_listeners is not None:
            await self.handoff.late_listeners.wait()
        return await self.handoff.sender.drain()


@asynccontextmanager
async def serve_bot(
    engine: AsyncEngine, fake: FakeSlack, clock: FrozenClock, settings: Settings
) -> AsyncIterator[RunningBot]:
    """Serve build_app(...) on 127.0.0.1 with a random port, as `handoff run` would."""
    # tests send bursts to one channel; pacing itself has its own unit tests
    handoff = build_app(settings, engine=engine, clock=clock, pacer=Pacer.unlimited())
    runner = web.AppRunner(handoff.web)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}"
    driver: SlackDriver
    if handoff.socket_edge is not None:
        # Socket Mode: Slack's requests come over the fake's WebSocket instead of /slack/events;
        # a dropped socket is noticed within 1 s, a stale one (no pong) after 4 s
        handoff.socket_edge.ping_interval = 1.0
        await handoff.socket_edge.start()
        await fake.wait_for_sockets(1)
        driver = SocketModeDriver(fake=fake)
    else:
        driver = SlackDriver(fake=fake, bot_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET)
    try:
        yield RunningBot(handoff=handoff, url=url, fake=fake, slack=driver, clock=clock)
    finally:
        await driver.aclose()
        await runner.cleanup()
        await handoff.close()


@pytest.fixture
def mode(request: pytest.FixtureRequest) -> str:
    """How Slack reaches the bot: "http" (signed POSTs); a module that overrides this fixture with
    params=MODES runs its scenarios over Socket Mode too (envelopes over the fake's WebSocket)."""
    return str(getattr(request, "param", "http"))


MODES = ["http", "socket"]


@pytest.fixture
def settings(database_url: str, fake_slack: FakeSlack, mode: str) -> Settings:
    if mode == "socket":
        return make_settings(database_url, fake_slack, slack_app_token=fake_slack.app_token)
    return make_settings(database_url, fake_slack)


@pytest.fixture
async def bot(
    engine: AsyncEngine, fake_slack: FakeSlack, clock: FrozenClock, settings: Settings
) -> AsyncIterator[RunningBot]:
    async with serve_bot(engine, fake_slack, clock, settings) as running:
        yield running
