"""lead.posted_at: when sales could first see the lead (its card, its line in a bulk thread, its DM);
the unclaimed SLA clock runs from it

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("lead", sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True))
    # leads from before: visible when they arrived, so their clocks (and SLA slots) do not move
    op.execute("UPDATE lead SET posted_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_column("posted_at")
