"""routing_rule.escalation_mode: a rule's own escalation mode, NULL when the rule has none

routing_rule.sla_escalation is NOT NULL and "manager" by default, so a rule that never chose
looked like one that chose "manager", and only "reassign" could count as the rule's own choice.
The new nullable column says which: NULL falls back to the workspace's mode (Settings → SLAs),
"manager" or "reassign" wins over it. Add-only (the previous release keeps reading
sla_escalation, which the models keep in step); existing rows backfill "reassign" only, since a
stored "manager" cannot be told from the default.

Revision ID: 0016
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("routing_rule", sa.Column("escalation_mode", sa.String(length=16), nullable=True))
    op.execute("UPDATE routing_rule SET escalation_mode = 'reassign' WHERE sla_escalation = 'reassign'")


def downgrade() -> None:
    with op.batch_alter_table("routing_rule", schema=None) as batch_op:
        batch_op.drop_column("escalation_mode")
