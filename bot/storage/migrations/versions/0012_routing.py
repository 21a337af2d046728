"""routing (issue 18): every decision stored, weights, caps and turns per rep, availability

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "routing_decision",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("lead_id", _ID, nullable=False),
        sa.Column("rule_id", _ID, nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("assignee_id", sa.String(length=32), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("capped", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_decision")),
        sa.UniqueConstraint("team_id", "lead_id", name=op.f("uq_routing_decision_team_id_lead_id")),
    )
    with op.batch_alter_table("routing_decision", schema=None) as batch_op:
        batch_op.create_index("ix_routing_decision_team_created", ["team_id", "created_at"], unique=False)
    op.create_table(
        "rep_load",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("rule_id", _ID, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("pass_value", sa.Float(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("day_count", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=10), nullable=False),
        sa.Column("week_count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rep_load")),
        sa.UniqueConstraint(
            "team_id", "rule_id", "user_id", name=op.f("uq_rep_load_team_id_rule_id_user_id")
        ),
    )
    with op.batch_alter_table("routing_rule", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("distribute", sa.String(length=16), server_default="turn", nullable=False)
        )
        batch_op.add_column(sa.Column("weights", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("cap_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cap_week", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("catch_up", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("hours", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("owner_first", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("virtual_time", sa.Float(), server_default="0", nullable=False))
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tz", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("tz_offset", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("status_text", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("status_emoji", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("status_expiration", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("profile_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("away_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("away_until", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        for column in (
            "away_until", "away_from", "profile_at", "status_expiration", "status_emoji", "status_text", "tz_offset", "tz"
        ):  # fmt: skip
            batch_op.drop_column(column)
    with op.batch_alter_table("routing_rule", schema=None) as batch_op:
        for column in (
            "virtual_time", "owner_first", "hours", "catch_up", "cap_week", "cap_day", "weights", "distribute"
        ):  # fmt: skip
            batch_op.drop_column(column)
    op.drop_table("rep_load")
    with op.batch_alter_table("routing_decision", schema=None) as batch_op:
        batch_op.drop_index("ix_routing_decision_team_created")
    op.drop_table("routing_decision")
