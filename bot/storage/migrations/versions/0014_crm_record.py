"""crm_record: the CRM record (HubSpot contact, Salesforce Lead) each lead was synced to

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "crm_record",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("lead_id", _ID, nullable=False),
        sa.Column("crm", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_record")),
        sa.UniqueConstraint("team_id", "lead_id", "crm", name=op.f("uq_crm_record_team_id_lead_id_crm")),
    )


def downgrade() -> None:
    op.drop_table("crm_record")
