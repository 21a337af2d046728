"""after the close: account, followup, insight, referral, customer_signal (issue 19)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", _ID, autoincrement=True, nullable=False)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "account",
        _id(),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.Column("first_lead_id", sa.BigInteger(), nullable=True),
        sa.Column("won_leads", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("team_id", "key", name=op.f("uq_account_team_id_key")),
    )
    op.create_index("ix_account_team_owner", "account", ["team_id", "owner_id"])
    op.create_table(
        "followup",
        _id(),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=True),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _at("due_at"),
        _at("created_at"),
        _at("sent_at", True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup")),
    )
    op.create_index("ix_followup_team_due", "followup", ["team_id", "sent_at", "due_at"])
    op.create_index("ix_followup_team_user", "followup", ["team_id", "user_id", "sent_at"])
    op.create_table(
        "insight",
        _id(),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=True),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("permalink", sa.Text(), nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight")),
    )
    op.create_index("ix_insight_team_created", "insight", ["team_id", "created_at"])
    op.create_table(
        "referral",
        _id(),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("rep_id", sa.String(length=32), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
        sa.UniqueConstraint("team_id", "lead_id", name=op.f("uq_referral_team_id_lead_id")),
    )
    op.create_index("ix_referral_team_created", "referral", ["team_id", "created_at"])
    op.create_table(
        "customer_signal",
        _id(),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("activity", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("outcome_by", sa.String(length=32), nullable=True),
        _at("outcome_at", True),
        _at("sent_at", True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_signal")),
    )
    op.create_index("ix_customer_signal_team_created", "customer_signal", ["team_id", "created_at"])
    op.create_index("ix_customer_signal_team_owner", "customer_signal", ["team_id", "owner_id", "created_at"])
    op.create_index("ix_customer_signal_team_held", "customer_signal", ["team_id", "sent_at", "created_at"])


def downgrade() -> None:
    for table, indexes in (
        (
            "customer_signal",
            (
                "ix_customer_signal_team_held",
                "ix_customer_signal_team_owner",
                "ix_customer_signal_team_created",
            ),
        ),
        ("referral", ("ix_referral_team_created",)),
        ("insight", ("ix_insight_team_created",)),
        ("followup", ("ix_followup_team_user", "ix_followup_team_due")),
        ("account", ("ix_account_team_owner",)),
    ):
        for index in indexes:
            op.drop_index(index, table_name=table)
        op.drop_table(table)
