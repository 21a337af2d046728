"""`handoff migrate` creates the schema on an empty database; a second run does nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.storage.db import make_engine
from bot.storage.migrate import head_revision
from bot.storage.models import Base
from tests.conftest import _create_pg_database, _drop_pg_database, pg_base_url

ROOT = Path(__file__).resolve().parents[2]


def handoff_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HANDOFF_"))}
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def empty_database_url(tmp_path: Path):
    base = pg_base_url()
    if base is None:
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    url = asyncio.run(_create_pg_database(base))
    yield url
    asyncio.run(_drop_pg_database(base, url))


async def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    return names


def test_migrate_creates_schema_then_does_nothing(empty_database_url: str) -> None:
    first = handoff_cli("migrate", database_url=empty_database_url)
    assert first.returncode == 0, first.stderr
    assert f"upgraded from empty to {head_revision()}" in first.stdout
    tables = asyncio.run(_tables(empty_database_url))
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables

    second = handoff_cli("migrate", database_url=empty_database_url)
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout


def test_models_and_migrations_agree(empty_database_url: str) -> None:
    """Autogenerate against a migrated database finds nothing to add: no model change is unmigrated."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    assert handoff_cli("migrate", database_url=empty_database_url).returncode == 0

    async def diff() -> list:
        engine = make_engine(empty_database_url)
        async with engine.connect() as conn:
            result = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": False}), Base.metadata
                )
            )
        await engine.dispose()
        return result

    assert asyncio.run(diff()) == []


def test_bad_database_url_is_one_clear_line(tmp_path: Path) -> None:
    result = handoff_cli("migrate", database_url="mysql://nope")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DATABASE_URL" in lines[0]


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def _insert_old_leads(engine, rows: list[tuple[str, datetime | None, datetime | None]]) -> None:
    """Leads as revisions 0001/0002 knew them: (status, claimed_at, stage_changed_at) each."""
    import sqlalchemy as sa

    from bot.storage.models import UTCDateTime

    old_lead = sa.table(
        "lead",
        *(sa.column(name) for name in ("team_id", "dedupe_key", "email", "status", "intake_channel")),
        sa.column("fields", sa.JSON()),
        sa.column("nurture", sa.Boolean()),
        *(sa.column(name, UTCDateTime()) for name in ("created_at", "updated_at", "claimed_at")),
        sa.column("stage_changed_at", UTCDateTime()),
    )
    values = [
        {"team_id": "T1", "dedupe_key": f"k{i}", "email": f"p{i}@acme.com", "status": status,
         "intake_channel": "api", "fields": {}, "nurture": False, "created_at": NOW - timedelta(days=9),
         "updated_at": NOW, "claimed_at": claimed, "stage_changed_at": staged}
        for i, (status, claimed, staged) in enumerate(rows)
    ]  # fmt: skip
    async with engine.begin() as conn:
        await conn.execute(sa.insert(old_lead), values)


def _upgrade_to(url: str, revision: str) -> None:
    from alembic import command

    from bot.storage.migrate import alembic_config

    async def run() -> None:
        engine = make_engine(url)
        cfg = alembic_config()

        def upgrade(sync_conn) -> None:
            cfg.attributes["connection"] = sync_conn
            command.upgrade(cfg, revision)

        try:
            async with engine.begin() as conn:
                await conn.run_sync(upgrade)
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_migration_0003_backfills_when_to_check_open_leads(tmp_path: Path) -> None:
    """Open leads get their SLA clock's start (a lower bound of any deadline), closed ones NULL
    (tests bot/storage/migrations/versions/0003_*)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    created, claimed, staged = NOW - timedelta(days=9), NOW - timedelta(days=5), NOW - timedelta(days=2)
    _upgrade_to(url, "0002")

    async def seed() -> None:
        engine = make_engine(url)
        try:
            await _insert_old_leads(
                engine,
                [
                    ("new", None, None),  # k0: waiting since arrival
                    ("new", claimed, staged),  # k1: released at `staged`
                    ("claimed", claimed, None),  # k2
                    ("contacted", claimed, staged),  # k3
                    ("won", claimed, staged),  # k4: closed, no clock
                    ("rejected", claimed, None),  # k5
                ],
            )
        finally:
            await engine.dispose()

    async def read() -> dict[str, datetime | None]:
        import sqlalchemy as sa

        from bot.storage.models import Lead

        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(sa.select(Lead.dedupe_key, Lead.sla_check_at))
                return {key: at for key, at in rows}
        finally:
            await engine.dispose()

    asyncio.run(seed())
    _upgrade_to(url, "head")
    assert asyncio.run(read()) == {
        "k0": created, "k1": staged, "k2": claimed, "k3": staged, "k4": None, "k5": None
    }  # fmt: skip


def test_migration_0016_keeps_a_rules_reassign_and_leaves_the_default_unset(tmp_path: Path) -> None:
    """A stored "manager" was every rule's default: after 0016 only "reassign" is the rule's own
    (tests bot/storage/migrations/versions/0016_*)."""
    import sqlalchemy as sa

    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    _upgrade_to(url, "0011")

    async def seed() -> None:
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:
                for name, mode in (("default", "manager"), ("reassigns", "reassign")):
                    await conn.execute(
                        sa.text(
                            "INSERT INTO routing_rule (team_id, name, priority, enabled, channel_id, reps, "
                            "rr_cursor, sla_escalation, created_at, mode) VALUES ('T1', :name, 1, 1, 'C1', "
                            "'[]', 0, :mode, :at, 'claim')"
                        ),
                        {"name": name, "mode": mode, "at": NOW},
                    )
        finally:
            await engine.dispose()

    async def read() -> dict[str, str | None]:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(sa.text("SELECT name, escalation_mode FROM routing_rule"))
                return {name: mode for name, mode in rows}
        finally:
            await engine.dispose()

    asyncio.run(seed())
    _upgrade_to(url, "head")
    assert asyncio.run(read()) == {"default": None, "reassigns": "reassign"}


def test_an_analyzed_sqlite_database_gets_statistics_for_the_new_lead_index(tmp_path: Path) -> None:
    """Migration 0002 on a database with planner statistics: the new index gets its own, so the
    planner does not guess it selective (tests bot/storage/migrations/versions/0002_*)."""
    from alembic import command

    from bot.storage.migrate import alembic_config

    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"

    async def run() -> list[str]:
        engine = make_engine(url)
        try:
            cfg = alembic_config()

            def to(revision: str):
                def upgrade(sync_conn) -> None:
                    cfg.attributes["connection"] = sync_conn
                    command.upgrade(cfg, revision)

                return upgrade

            async with engine.begin() as conn:
                await conn.run_sync(to("0001"))
            # the rows of revision 0001 (the model has columns of later revisions)
            await _insert_old_leads(engine, [("new", None, None)] * 20)
            async with engine.begin() as conn:
                await conn.exec_driver_sql("ANALYZE")
            async with engine.begin() as conn:
                await conn.run_sync(to("head"))
            async with engine.connect() as conn:
                rows = await conn.exec_driver_sql("SELECT idx FROM sqlite_stat1 WHERE tbl = 'lead'")
                return [r[0] for r in rows]
        finally:
            await engine.dispose()

    indexes = asyncio.run(run())
    assert "ix_lead_team_email_created" in indexes and "ix_lead_team_email" not in indexes
