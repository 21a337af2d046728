"""outbox.lane and outbox.rank_at: priority lanes, claimed in rank order through one index;
lead.priority ("high" from the API)

Revision ID: 0006
Revises: 0005

Numbered 0006 because other branches may add 0004/0005; down_revision is the head at branch time.
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lane", sa.Integer(), nullable=False, server_default="3"))
        # nullable with a server default, not NOT NULL: the previous release's code, still running
        # during a rolling upgrade, queues rows without it (docs/operations.md, Upgrades)
        batch_op.add_column(
            sa.Column("rank_at", sa.DateTime(timezone=True), nullable=True, server_default=sa.func.now())
        )
    # rows queued before the upgrade keep their order: first in, first out
    op.execute("UPDATE outbox SET rank_at = created_at")
    op.create_index("ix_outbox_rank", "outbox", ["status", "rank_at", "id"], unique=False)
    op.add_column("lead", sa.Column("priority", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_column("priority")
    op.drop_index("ix_outbox_rank", table_name="outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("rank_at")
        batch_op.drop_column("lane")
