"""lead duplicates: index (team_id, email, created_at) instead of (team_id, email)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index("ix_lead_team_email_created", ["team_id", "email", "created_at"], unique=False)
        batch_op.drop_index("ix_lead_team_email")


def downgrade() -> None:
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index("ix_lead_team_email", ["team_id", "email"], unique=False)
        batch_op.drop_index("ix_lead_team_email_created")
