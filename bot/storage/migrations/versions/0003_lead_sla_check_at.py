"""lead.sla_check_at: when the SLA pass should next look at the lead, indexed per team

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Open leads start at their clock's start (a lower bound of every deadline: working time never
# exceeds wall time); the first SLA passes replace it with the precise next deadline, most overdue
# first. Closed leads stay NULL: no clock runs.
BACKFILL = """
UPDATE lead SET sla_check_at = CASE
    WHEN status = 'new' THEN coalesce(stage_changed_at, created_at)
    WHEN status = 'claimed' THEN coalesce(claimed_at, created_at)
    ELSE coalesce(stage_changed_at, accepted_at, claimed_at, created_at)
END
WHERE status IN ('new', 'claimed', 'accepted', 'contacted', 'meeting_booked', 'opportunity')
"""


def upgrade() -> None:
    op.add_column("lead", sa.Column("sla_check_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(BACKFILL)
    op.create_index("ix_lead_team_sla_check", "lead", ["team_id", "sla_check_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_lead_team_sla_check", table_name="lead")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_column("sla_check_at")
