"""setting_audit: who changed which workspace setting, when, from what to what

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "setting_audit",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("old", sa.Text(), nullable=False),
        sa.Column("new", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setting_audit")),
    )
    with op.batch_alter_table("setting_audit", schema=None) as batch_op:
        batch_op.create_index("ix_setting_audit_team_at", ["team_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("setting_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_setting_audit_team_at")
    op.drop_table("setting_audit")
