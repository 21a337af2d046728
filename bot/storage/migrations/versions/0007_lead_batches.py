"""lead_batch: leads that came in bulk, one summary card per channel and source/campaign; lead.batch_id
and lead.line_ts (the thread message that lists the lead)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lead_batch",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=400), nullable=False),
        sa.Column("hot_count", sa.Integer(), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_batch")),
    )
    op.create_index(
        "ix_lead_batch_team_channel", "lead_batch", ["team_id", "channel_id", "label", "created_at"]
    )
    # plain ADD COLUMNs: no table rebuild of lead on SQLite
    op.add_column("lead", sa.Column("batch_id", BigId, nullable=True))
    op.add_column("lead", sa.Column("line_ts", sa.String(length=32), nullable=True))
    op.create_index("ix_lead_batch_status", "lead", ["batch_id", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_lead_batch_status", table_name="lead")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_column("line_ts")
        batch_op.drop_column("batch_id")
    op.drop_index("ix_lead_batch_team_channel", table_name="lead_batch")
    op.drop_table("lead_batch")
