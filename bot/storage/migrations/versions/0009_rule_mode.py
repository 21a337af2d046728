"""routing_rule.mode: claim (a card in the channel) or assign (the next rep gets it by DM)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "routing_rule", sa.Column("mode", sa.String(length=8), nullable=False, server_default="claim")
    )


def downgrade() -> None:
    with op.batch_alter_table("routing_rule", schema=None) as batch_op:
        batch_op.drop_column("mode")
