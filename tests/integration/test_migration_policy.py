"""Zero-downtime upgrades need every migration to be one the previous release's code survives:
during a rolling upgrade the old instances run against the new schema. From 0004 on, a migration
may only add: new tables, indexes, nullable columns (or ones with a server default), and data
backfills (UPDATE/INSERT). Dropping, renaming or tightening waits for a later release, once no
code reads the old shape. Each migration's upgrade() is run against a recording Operations
object (Alembic's offline mode: nothing touches a database), and every operation is judged."""

from __future__ import annotations

import io
from collections.abc import Callable
from unittest import mock

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations, MigrateOperation, Operations
from alembic.operations import ops as alembic_ops
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.storage.migrate import alembic_config

# the last revision written before the policy; everything after it is held to it
POLICY_FROM = "0003"


def recorded_ops(upgrade: Callable[[], None]) -> list[MigrateOperation]:
    """What `upgrade` asks Alembic's `op` for, recorded instead of done."""
    context = MigrationContext.configure(
        dialect_name="postgresql", opts={"as_sql": True, "output_buffer": io.StringIO()}
    )
    recorded: list[MigrateOperation] = []
    # Alembic's `op` proxies only to Operations itself, so the instance's invoke is replaced
    recorder = Operations(context)
    recorder.invoke = recorded.append  # type: ignore[method-assign]
    recorder._install_proxy()
    try:
        # operations inside `with op.batch_alter_table(...)` go through BatchOperations
        with mock.patch.object(BatchOperations, "invoke", lambda self, operation: recorded.append(operation)):
            upgrade()
    finally:
        recorder._remove_proxy()
    return recorded


def breaks_old_code(operation: MigrateOperation) -> str | None:
    """Why the previous release might fail on the schema after this operation (None: it won't)."""
    if isinstance(operation, alembic_ops.CreateTableOp | alembic_ops.CreateIndexOp):
        return None
    if isinstance(operation, alembic_ops.AddColumnOp):
        column = operation.column
        if column.nullable or column.server_default is not None:
            return None
        return f"adds NOT NULL column {operation.table_name}.{column.name} without a server default"
    if isinstance(operation, alembic_ops.ExecuteSQLOp):
        sql = str(operation.sqltext).strip().split(None, 1)[0].upper()
        return None if sql in ("UPDATE", "INSERT", "ANALYZE") else f"runs {sql} by hand"
    return type(operation).__name__.removesuffix("Op")


def revisions_after(base: str) -> list[str]:
    scripts = ScriptDirectory.from_config(alembic_config())
    ordered = [s.revision for s in reversed(list(scripts.walk_revisions()))]
    assert base in ordered, f"{base} is gone: the policy would silently cover nothing"
    return ordered[ordered.index(base) + 1 :]


def upgrade_of(revision: str) -> Callable[[], None]:
    scripts = ScriptDirectory.from_config(alembic_config())
    module = scripts.get_revision(revision).module
    return module.upgrade


def test_new_migrations_only_add() -> None:
    problems = {
        revision: [
            why for operation in recorded_ops(upgrade_of(revision)) if (why := breaks_old_code(operation))
        ]
        for revision in revisions_after(POLICY_FROM)
    }
    assert not any(problems.values()), f"{problems}; see docs/operations.md, Upgrades"


def test_the_last_migrations_before_the_policy_would_pass_it() -> None:
    """0002 (a new index for an old one) and 0003 (a nullable column, its backfill, an index)."""
    assert [breaks_old_code(o) for o in recorded_ops(upgrade_of("0003"))] == [None, None, None]
    # 0002 swapped an index for a wider one; dropping the old one waits a release under the policy
    assert [breaks_old_code(o) for o in recorded_ops(upgrade_of("0002"))][:2] == [None, "DropIndex"]


def test_the_policy_refuses_what_old_code_cannot_survive() -> None:
    def bad() -> None:
        op.drop_column("lead", "phone")
        op.alter_column("lead", "name", new_column_name="full_name")
        op.add_column("lead", sa.Column("tier", sa.String(8), nullable=False))
        op.execute("ALTER TABLE lead DROP COLUMN notes")
        op.drop_table("outbox")
        with op.batch_alter_table("lead") as batch:
            batch.drop_column("region")

    def good() -> None:
        op.add_column("lead", sa.Column("tier", sa.String(8), nullable=True))
        op.add_column("lead", sa.Column("lane", sa.String(16), nullable=False, server_default="lead"))
        op.create_table("lane", sa.Column("id", sa.Integer, primary_key=True))
        op.create_index("ix_lead_tier", "lead", ["tier"])
        op.execute("UPDATE lead SET tier = 'a'")

    assert [breaks_old_code(o) for o in recorded_ops(bad)] == [
        "DropColumn",
        "AlterColumn",
        "adds NOT NULL column lead.tier without a server default",
        "runs ALTER by hand",
        "DropTable",
        "DropColumn",
    ]
    assert [breaks_old_code(o) for o in recorded_ops(good)] == [None] * 5
