"""initial schema

Revision ID: 0001
Revises:
Create Date: pre-release
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=True),
        sa.Column("away", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
        sa.UniqueConstraint("team_id", "user_id", name=op.f("uq_member_team_id_user_id")),
    )
    op.create_table(
        "metric_report",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("segment", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("reported_by", sa.String(length=32), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_report")),
    )
    with op.batch_alter_table("metric_report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_metric_report_team_metric", ["team_id", "metric", "reported_at"], unique=False
        )

    op.create_table(
        "processed_key",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processed_key")),
        sa.UniqueConstraint("team_id", "key", name=op.f("uq_processed_key_team_id_key")),
    )
    with op.batch_alter_table("processed_key", schema=None) as batch_op:
        batch_op.create_index("ix_processed_key_expires", ["expires_at"], unique=False)

    op.create_table(
        "question",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("times_asked", sa.Integer(), nullable=False),
        sa.Column("last_asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question")),
    )
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.create_index("ix_question_team", ["team_id", "active"], unique=False)

    op.create_table(
        "routing_rule",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=True),
        sa.Column("segments", sa.JSON(), nullable=True),
        sa.Column("sources", sa.JSON(), nullable=True),
        sa.Column("campaigns", sa.JSON(), nullable=True),
        sa.Column("email_domains", sa.JSON(), nullable=True),
        sa.Column("score_min", sa.Integer(), nullable=True),
        sa.Column("score_max", sa.Integer(), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("reps", sa.JSON(), nullable=False),
        sa.Column("rr_cursor", sa.Integer(), nullable=False),
        sa.Column("hot_usergroup", sa.String(length=32), nullable=True),
        sa.Column("hot_score", sa.Integer(), nullable=True),
        sa.Column("manager_id", sa.String(length=32), nullable=True),
        sa.Column("sla_remind_minutes", sa.Integer(), nullable=True),
        sa.Column("sla_escalate_minutes", sa.Integer(), nullable=True),
        sa.Column("sla_escalation", sa.String(length=16), nullable=False),
        sa.Column("sla_verdict_hours", sa.Integer(), nullable=True),
        sa.Column("sla_stage_days", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rule")),
        sa.UniqueConstraint("team_id", "name", name=op.f("uq_routing_rule_team_id_name")),
    )
    with op.batch_alter_table("routing_rule", schema=None) as batch_op:
        batch_op.create_index("ix_routing_rule_team", ["team_id", "priority"], unique=False)

    op.create_table(
        "schedule_slot",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.String(length=120), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_slot")),
        sa.UniqueConstraint("team_id", "job", "slot", name=op.f("uq_schedule_slot_team_id_job_slot")),
    )
    op.create_table(
        "slack_bots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("enterprise_name", sa.String(length=200), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("team_name", sa.String(length=200), nullable=True),
        sa.Column("bot_token", sa.Text(), nullable=True),
        sa.Column("bot_id", sa.String(length=32), nullable=True),
        sa.Column("bot_user_id", sa.String(length=32), nullable=True),
        sa.Column("bot_scopes", sa.String(length=1000), nullable=True),
        sa.Column("bot_refresh_token", sa.Text(), nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_bots")),
    )
    with op.batch_alter_table("slack_bots", schema=None) as batch_op:
        batch_op.create_index(
            "slack_bots_idx", ["client_id", "enterprise_id", "team_id", "installed_at"], unique=False
        )

    op.create_table(
        "slack_installations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("enterprise_name", sa.String(length=200), nullable=True),
        sa.Column("enterprise_url", sa.String(length=200), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("team_name", sa.String(length=200), nullable=True),
        sa.Column("bot_token", sa.Text(), nullable=True),
        sa.Column("bot_id", sa.String(length=32), nullable=True),
        sa.Column("bot_user_id", sa.String(length=32), nullable=True),
        sa.Column("bot_scopes", sa.String(length=1000), nullable=True),
        sa.Column("bot_refresh_token", sa.Text(), nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("user_token", sa.Text(), nullable=True),
        sa.Column("user_scopes", sa.String(length=1000), nullable=True),
        sa.Column("user_refresh_token", sa.Text(), nullable=True),
        sa.Column("user_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("incoming_webhook_url", sa.String(length=200), nullable=True),
        sa.Column("incoming_webhook_channel", sa.String(length=200), nullable=True),
        sa.Column("incoming_webhook_channel_id", sa.String(length=200), nullable=True),
        sa.Column("incoming_webhook_configuration_url", sa.String(length=200), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("token_type", sa.String(length=32), nullable=True),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_installations")),
    )
    with op.batch_alter_table("slack_installations", schema=None) as batch_op:
        batch_op.create_index(
            "slack_installations_idx",
            ["client_id", "enterprise_id", "team_id", "user_id", "installed_at"],
            unique=False,
        )

    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state", sa.String(length=200), nullable=False),
        sa.Column("expire_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_oauth_states")),
    )
    op.create_table(
        "target",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("period_kind", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("segment", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("set_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target")),
        sa.UniqueConstraint(
            "team_id",
            "metric",
            "period_kind",
            "period_start",
            "segment",
            name=op.f("uq_target_team_id_metric_period_kind_period_start_segment"),
        ),
    )
    op.create_table(
        "workspace_setting",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_setting")),
        sa.UniqueConstraint("team_id", "key", name=op.f("uq_workspace_setting_team_id_key")),
    )
    op.create_table(
        "discussion_prompt",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("question_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("fact", sa.JSON(), nullable=True),
        sa.Column("started_by", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recapped_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["question.id"],
            name=op.f("fk_discussion_prompt_question_id_question"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discussion_prompt")),
    )
    with op.batch_alter_table("discussion_prompt", schema=None) as batch_op:
        batch_op.create_index("ix_discussion_prompt_team_opened", ["team_id", "opened_at"], unique=False)

    op.create_table(
        "lead",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=400), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("segment", sa.String(length=100), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=True),
        sa.Column("intake_channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.Column("assignee_id", sa.String(length=32), nullable=True),
        sa.Column("rule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("route_reason", sa.Text(), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("verdict_comment", sa.Text(), nullable=True),
        sa.Column("reject_reason", sa.String(length=64), nullable=True),
        sa.Column("reject_detail", sa.Text(), nullable=True),
        sa.Column(
            "quality_key",
            sa.Text(),
            sa.Computed(
                "coalesce(source, '') || '\x1f' || coalesce(campaign, '') || '\x1f' || coalesce(reject_reason, '')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("nurture", sa.Boolean(), nullable=False),
        sa.Column("won_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("lost_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verdict_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("meeting_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opportunity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("won_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lost_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stage_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["routing_rule.id"], name=op.f("fk_lead_rule_id_routing_rule"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead")),
        sa.UniqueConstraint("team_id", "dedupe_key", name=op.f("uq_lead_team_id_dedupe_key")),
    )
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lead_team_accepted", ["team_id", "accepted_at", "segment", "channel_id"], unique=False
        )
        batch_op.create_index(
            "ix_lead_team_claimed",
            ["team_id", "claimed_at", "created_at", "segment", "channel_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_lead_team_created", ["team_id", "created_at", "segment", "channel_id"], unique=False
        )
        batch_op.create_index("ix_lead_team_email", ["team_id", "email"], unique=False)
        batch_op.create_index(
            "ix_lead_team_meeting", ["team_id", "meeting_at", "segment", "channel_id"], unique=False
        )
        batch_op.create_index("ix_lead_team_owner_status", ["team_id", "owner_id", "status"], unique=False)
        batch_op.create_index(
            "ix_lead_team_owner_updated", ["team_id", "owner_id", "updated_at", "status"], unique=False
        )
        batch_op.create_index(
            "ix_lead_team_quality",
            [
                "team_id",
                "quality_key",
                "created_at",
                "verdict_at",
                "accepted_at",
                "won_at",
                "lost_at",
                "quality",
            ],
            unique=False,
        )
        batch_op.create_index("ix_lead_team_status", ["team_id", "status"], unique=False)
        batch_op.create_index(
            "ix_lead_team_verdict",
            ["team_id", "verdict_at", "segment", "channel_id", "source", "accepted_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_lead_team_won",
            ["team_id", "won_at", "segment", "channel_id", "currency", "won_amount"],
            unique=False,
        )

    op.create_table(
        "discussion_answer",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("prompt_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("side", sa.String(length=16), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_id"],
            ["discussion_prompt.id"],
            name=op.f("fk_discussion_answer_prompt_id_discussion_prompt"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discussion_answer")),
    )
    with op.batch_alter_table("discussion_answer", schema=None) as batch_op:
        batch_op.create_index("ix_discussion_answer_prompt", ["prompt_id"], unique=False)

    op.create_table(
        "lead_event",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["lead.id"], name=op.f("fk_lead_event_lead_id_lead"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_event")),
    )
    with op.batch_alter_table("lead_event", schema=None) as batch_op:
        batch_op.create_index("ix_lead_event_lead", ["lead_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_lead_event_team_kind_created", ["team_id", "kind", "created_at"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=48), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("ref_table", sa.String(length=32), nullable=True),
        sa.Column("ref_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("result_ts", sa.String(length=32), nullable=True),
        sa.Column("result_channel", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["lead.id"], name=op.f("fk_outbox_lead_id_lead"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_outbox_lead", ["lead_id"], unique=False)

    op.create_table(
        "answer_vote",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("answer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["discussion_answer.id"],
            name=op.f("fk_answer_vote_answer_id_discussion_answer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_vote")),
        sa.UniqueConstraint("answer_id", "user_id", name=op.f("uq_answer_vote_answer_id_user_id")),
    )


def downgrade() -> None:
    op.drop_table("answer_vote")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_lead")
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
    with op.batch_alter_table("lead_event", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_event_team_kind_created")
        batch_op.drop_index("ix_lead_event_lead")

    op.drop_table("lead_event")
    with op.batch_alter_table("discussion_answer", schema=None) as batch_op:
        batch_op.drop_index("ix_discussion_answer_prompt")

    op.drop_table("discussion_answer")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_team_won")
        batch_op.drop_index("ix_lead_team_verdict")
        batch_op.drop_index("ix_lead_team_status")
        batch_op.drop_index("ix_lead_team_quality")
        batch_op.drop_index("ix_lead_team_owner_updated")
        batch_op.drop_index("ix_lead_team_owner_status")
        batch_op.drop_index("ix_lead_team_meeting")
        batch_op.drop_index("ix_lead_team_email")
        batch_op.drop_index("ix_lead_team_created")
        batch_op.drop_index("ix_lead_team_claimed")
        batch_op.drop_index("ix_lead_team_accepted")

    op.drop_table("lead")
    with op.batch_alter_table("discussion_prompt", schema=None) as batch_op:
        batch_op.drop_index("ix_discussion_prompt_team_opened")

    op.drop_table("discussion_prompt")
    op.drop_table("workspace_setting")
    op.drop_table("target")
    op.drop_table("slack_oauth_states")
    with op.batch_alter_table("slack_installations", schema=None) as batch_op:
        batch_op.drop_index("slack_installations_idx")

    op.drop_table("slack_installations")
    with op.batch_alter_table("slack_bots", schema=None) as batch_op:
        batch_op.drop_index("slack_bots_idx")

    op.drop_table("slack_bots")
    op.drop_table("schedule_slot")
    with op.batch_alter_table("routing_rule", schema=None) as batch_op:
        batch_op.drop_index("ix_routing_rule_team")

    op.drop_table("routing_rule")
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.drop_index("ix_question_team")

    op.drop_table("question")
    with op.batch_alter_table("processed_key", schema=None) as batch_op:
        batch_op.drop_index("ix_processed_key_expires")

    op.drop_table("processed_key")
    with op.batch_alter_table("metric_report", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_report_team_metric")

    op.drop_table("metric_report")
    op.drop_table("member")
