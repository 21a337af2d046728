"""SQLAlchemy 2 models: every table of ours carries team_id, timestamps are UTC-aware."""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy import event as orm_event
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates
from sqlalchemy.orm import attributes as orm_attributes

from bot.domain.lead import CLOSED, Status

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite's INTEGER PRIMARY KEY is the rowid; BIGINT would lose autoincrement there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes; SQLite hands back naive ones, so re-attach UTC on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


# slack_sdk's own tables (installations, bots, OAuth states) live in our metadata so that
# Alembic creates and migrates them with ours; the stores themselves stay slack_sdk's.
SLACK_INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, "slack_installations"
)
SLACK_BOTS = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, "slack_bots")
# slack_sdk sizes token columns for clear text (200); an encrypted token (HANDOFF_ENCRYPTION_KEY) of
# a long rotating token is longer, and PostgreSQL would refuse it
for _table in (SLACK_INSTALLATIONS, SLACK_BOTS):
    for _name in ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"):
        if _name in _table.c:
            _table.c[_name].type = Text()
SLACK_OAUTH_STATES = SQLAlchemyOAuthStateStore.build_oauth_states_table(Base.metadata, "slack_oauth_states")


# The lead fields that start, stop or re-time an SLA clock (bot.domain.sla.anchor and thresholds).
SLA_CLOCK_FIELDS = frozenset(
    {"status", "created_at", "claimed_at", "accepted_at", "stage_changed_at", "rule_id"}
)


def sla_check_after_move(status: str | None, at: Any) -> Any:
    """Where a move leaves lead.sla_check_at: NULL once the lead is closed (no clock runs), else
    the time of the move, so the next SLA pass judges the lead and writes its precise deadline."""
    if status is not None and Status(status) in CLOSED:
        return None
    return at


def _sla_check_on_insert(context: DefaultExecutionContext) -> datetime | None:
    params = context.get_current_parameters()
    return sla_check_after_move(params.get("status") or Status.NEW.value, params.get("created_at"))


def _posted_on_insert(context: DefaultExecutionContext) -> datetime | None:
    return typing.cast(datetime | None, context.get_current_parameters().get("created_at"))


class Lead(Base):
    """A lead handed from marketing to sales; `status` follows bot.domain.lead.Status."""

    __tablename__ = "lead"
    __table_args__ = (
        UniqueConstraint("team_id", "dedupe_key"),
        # duplicates within the window: email equality, then the created_at range, in one index (with
        # (team_id, email) alone, SQLite preferred ix_lead_team_created and scanned the whole window)
        Index("ix_lead_team_email_created", "team_id", "email", "created_at"),
        Index("ix_lead_team_status", "team_id", "status"),
        Index("ix_lead_team_owner_status", "team_id", "owner_id", "status"),
        # Reporting reads these ranges index-only (bot/storage/reports.py): the trailing columns
        # cover the scope filters (segment, channel) and the median time to claim (created_at), so
        # no count touches the table at 1M leads.
        Index("ix_lead_team_created", "team_id", "created_at", "segment", "channel_id"),
        # Lead quality by source/campaign/reason: one contiguous range per group and window, read in
        # group order (metrics.lead_quality), so the report never sorts a quarter of leads.
        Index(
            "ix_lead_team_quality",
            "team_id",
            "quality_key",
            "created_at",
            "verdict_at",
            "accepted_at",
            "won_at",
            "lost_at",
            "quality",
        ),
        Index("ix_lead_team_claimed", "team_id", "claimed_at", "created_at", "segment", "channel_id"),
        Index("ix_lead_team_accepted", "team_id", "accepted_at", "segment", "channel_id"),
        Index("ix_lead_team_meeting", "team_id", "meeting_at", "segment", "channel_id"),
        Index("ix_lead_team_won", "team_id", "won_at", "segment", "channel_id", "currency", "won_amount"),
        # a rep's open leads, stalest first: walk the owner's leads in updated_at order, stop at a page
        Index("ix_lead_team_owner_updated", "team_id", "owner_id", "updated_at", "status"),
        Index(
            "ix_lead_team_verdict", "team_id", "verdict_at", "segment", "channel_id", "source", "accepted_at"
        ),
        # the SLA pass: due leads, most overdue first, without reading the open ones that are not due
        Index("ix_lead_team_sla_check", "team_id", "sla_check_at"),
        # a bulk batch's leads: the summary's counts, its thread's lines, "Claim next"
        Index("ix_lead_batch_status", "batch_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(400))
    external_id: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    source: Mapped[str | None] = mapped_column(String(100))
    campaign: Mapped[str | None] = mapped_column(String(200))
    score: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(100))
    segment: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    intake_channel: Mapped[str] = mapped_column(String(16), default="api")  # api|slack|csv|demo
    priority: Mapped[str | None] = mapped_column(String(8))  # "high" from the API: the hot lane
    # a lead that came in bulk is listed in its batch's summary thread (line_ts: the thread message
    # that lists it) instead of getting a card of its own; claiming it posts its card there
    batch_id: Mapped[int | None] = mapped_column(BigId)  # lead_batch.id (batches are never deleted)
    line_ts: Mapped[str | None] = mapped_column(String(32))
    # when sales could first see the lead: its card, its line in a bulk thread or its DM was posted.
    # The unclaimed SLA clock runs from here (bot.domain.sla.anchor). Intake leaves it NULL until
    # the post is recorded; a lead inserted any other way counts as visible when it arrived.
    posted_at: Mapped[datetime | None] = mapped_column(default=_posted_on_insert)

    status: Mapped[str] = mapped_column(String(24), default="new")
    owner_id: Mapped[str | None] = mapped_column(String(32))
    assignee_id: Mapped[str | None] = mapped_column(String(32))  # suggested by round robin
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rule.id", ondelete="SET NULL"))
    route_reason: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))

    quality: Mapped[int | None] = mapped_column(Integer)
    verdict_comment: Mapped[str | None] = mapped_column(Text)
    reject_reason: Mapped[str | None] = mapped_column(String(64))
    reject_detail: Mapped[str | None] = mapped_column(Text)
    # source, campaign and reject reason in one never-null column the database keeps up to date
    # (metrics.QUALITY_KEY_SEPARATOR between them): lead quality enumerates its groups by walking
    # this column's index with one seek per group, which a nullable multi-column key cannot do.
    quality_key: Mapped[str] = mapped_column(
        Text,
        Computed(
            "coalesce(source, '') || '\x1f' || coalesce(campaign, '') || '\x1f' || coalesce(reject_reason, '')",
            persisted=True,
        ),
    )
    nurture: Mapped[bool] = mapped_column(Boolean, default=False)
    won_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    lost_reason: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    verdict_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    rejected_at: Mapped[datetime | None]
    contacted_at: Mapped[datetime | None]
    meeting_at: Mapped[datetime | None]
    opportunity_at: Mapped[datetime | None]
    won_at: Mapped[datetime | None]
    lost_at: Mapped[datetime | None]
    stage_changed_at: Mapped[datetime | None]
    # "don't look at this lead's SLA clock before": the precise next deadline once the SLA pass has
    # judged the lead; the time of the move after anything that (re)starts a clock (a new lead, a
    # claim, a release, a verdict, a stage: see sla_check_after_move); NULL when no step can come.
    sla_check_at: Mapped[datetime | None] = mapped_column(default=_sla_check_on_insert)


@orm_event.listens_for(Lead, "before_update")
def _sla_check_on_orm_move(mapper: Any, connection: Any, lead: Lead) -> None:
    """A lead moved through the ORM (not compare_and_set) gets judged again at the next SLA pass."""
    changed = {name for name in SLA_CLOCK_FIELDS if orm_attributes.get_history(lead, name).has_changes()}
    if changed and not orm_attributes.get_history(lead, "sla_check_at").has_changes():
        lead.sla_check_at = sla_check_after_move(lead.status, lead.updated_at or lead.created_at)


class LeadBatch(Base):
    """Leads that came to one channel in bulk from one source/campaign (an API batch, a CSV
    import): one summary card in the channel, the leads listed in its thread."""

    __tablename__ = "lead_batch"
    __table_args__ = (Index("ix_lead_batch_team_channel", "team_id", "channel_id", "label", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(400))  # campaign, else source, else "Imported leads"
    hot_count: Mapped[int] = mapped_column(Integer, default=0)  # hot leads posted on their own
    message_ts: Mapped[str | None] = mapped_column(String(32))  # the summary card
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LeadEvent(Base):
    """Append-only history: who did what to a lead, when, and from where."""

    __tablename__ = "lead_event"
    __table_args__ = (
        Index("ix_lead_event_lead", "lead_id", "created_at"),
        Index("ix_lead_event_team_kind_created", "team_id", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(16))  # slack|api|csv|scheduler|system
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class RoutingRule(Base):
    __tablename__ = "routing_rule"
    __table_args__ = (
        UniqueConstraint("team_id", "name"),
        Index("ix_routing_rule_team", "team_id", "priority"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    priority: Mapped[int] = mapped_column(Integer, default=100)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # match conditions: None matches anything; lists match any of their values
    regions: Mapped[list[Any] | None] = mapped_column(JSON)
    segments: Mapped[list[Any] | None] = mapped_column(JSON)
    sources: Mapped[list[Any] | None] = mapped_column(JSON)
    campaigns: Mapped[list[Any] | None] = mapped_column(JSON)
    email_domains: Mapped[list[Any] | None] = mapped_column(JSON)
    score_min: Mapped[int | None] = mapped_column(Integer)
    score_max: Mapped[int | None] = mapped_column(Integer)
    # actions
    channel_id: Mapped[str] = mapped_column(String(32))
    reps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    rr_cursor: Mapped[int] = mapped_column(Integer, default=0)
    hot_usergroup: Mapped[str | None] = mapped_column(String(32))
    hot_score: Mapped[int | None] = mapped_column(Integer)
    # claim: a card in the channel, first click wins; assign: the next rep gets it by DM (Accept /
    # Pass), handed on after a Pass or the rule's reminder time without an answer
    mode: Mapped[str] = mapped_column(String(8), default="claim")
    # distribution (issue 18): turn (strict order, weights repeat a rep) or least_loaded (fewest
    # leads per weight, ties broken at random); caps per rep per day/week; see bot/domain/distribution.py
    distribute: Mapped[str] = mapped_column(String(16), default="turn", server_default="turn")
    weights: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # user_id → weight (absent: 1)
    cap_day: Mapped[int | None] = mapped_column(Integer)
    cap_week: Mapped[int | None] = mapped_column(Integer)
    catch_up: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    hours: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    owner_first: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # least_loaded's clock: how far the rule's fair share has moved (a returning rep joins here)
    virtual_time: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))
    manager_id: Mapped[str | None] = mapped_column(String(32))
    # SLA thresholds (None: workspace defaults)
    sla_remind_minutes: Mapped[int | None] = mapped_column(Integer)
    sla_escalate_minutes: Mapped[int | None] = mapped_column(Integer)
    # the rule's own escalation mode (manager|reassign); None: the workspace's (Settings → SLAs)
    escalation_mode: Mapped[str | None] = mapped_column(String(16))
    # legacy (migration 0016): NOT NULL with "manager" by default, so "not set" and "manager" looked
    # alike; kept in step with escalation_mode for the previous release during a rolling upgrade
    sla_escalation: Mapped[str] = mapped_column(String(16), default="manager")
    sla_verdict_hours: Mapped[int | None] = mapped_column(Integer)
    sla_stage_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]

    @validates("escalation_mode")
    def _legacy_escalation_in_step(self, key: str, value: str | None) -> str | None:
        self.sla_escalation = value or "manager"
        return value


class Member(Base):
    """What Handoff knows of a person: team (sales/marketing) and whether they are away."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    side: Mapped[str | None] = mapped_column(String(16))  # sales|marketing
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]
    # from Slack's users.info (refreshed by a job): working hours are in the rep's own time zone,
    # and a status that says out of office skips them in routing
    tz: Mapped[str | None] = mapped_column(String(64))
    tz_offset: Mapped[int | None] = mapped_column(Integer)
    status_text: Mapped[str | None] = mapped_column(String(200))
    status_emoji: Mapped[str | None] = mapped_column(String(100))
    status_expiration: Mapped[int | None] = mapped_column(Integer)
    profile_at: Mapped[datetime | None]
    # time off set ahead (`/handoff away 2026-12-24..2026-12-31`): dates in the rep's own zone
    away_from: Mapped[date | None] = mapped_column(Date)
    away_until: Mapped[date | None] = mapped_column(Date)


class RoutingDecision(Base):
    """Why a lead went where it went: the rules checked, the one that matched, every candidate rep
    and why each was skipped. Written in the lead's transaction; read by "Why here?", the API and
    exports. `detail` is bot.domain.routing_why.Why.to_json()."""

    __tablename__ = "routing_decision"
    __table_args__ = (
        UniqueConstraint("team_id", "lead_id"),
        Index("ix_routing_decision_team_created", "team_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    lead_id: Mapped[int] = mapped_column(BigId)
    rule_id: Mapped[int | None] = mapped_column(BigId)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    assignee_id: Mapped[str | None] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(16))  # rule | default | account
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    capped: Mapped[list[Any] | None] = mapped_column(JSON)  # reps skipped for a cap (the fairness report)
    created_at: Mapped[datetime]


class RepLoad(Base):
    """One rep's counts in one rule: leads today and this week (for caps), in all, and the rep's
    place in least_loaded's fair share. Written only under the rule's row lock."""

    __tablename__ = "rep_load"
    __table_args__ = (UniqueConstraint("team_id", "rule_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    rule_id: Mapped[int] = mapped_column(BigId)
    user_id: Mapped[str] = mapped_column(String(32))
    pass_value: Mapped[float] = mapped_column(Float)
    day: Mapped[str] = mapped_column(String(10))
    day_count: Mapped[int] = mapped_column(Integer)
    week: Mapped[str] = mapped_column(String(10))
    week_count: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class WorkspaceSetting(Base):
    """Per-workspace overrides of the environment defaults (channels, SLA defaults, holidays...)."""

    __tablename__ = "workspace_setting"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON)
    updated_by: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime]


class Target(Base):
    __tablename__ = "target"
    __table_args__ = (UniqueConstraint("team_id", "metric", "period_kind", "period_start", "segment"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    metric: Mapped[str] = mapped_column(String(32))
    period_kind: Mapped[str] = mapped_column(String(8))  # month|quarter
    period_start: Mapped[date] = mapped_column(Date)
    segment: Mapped[str] = mapped_column(String(100), default="")  # "" = whole team
    value: Mapped[float] = mapped_column(Float)
    set_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MetricReport(Base):
    """A hand-reported value for a manual metric (`/targets report`)."""

    __tablename__ = "metric_report"
    __table_args__ = (Index("ix_metric_report_team_metric", "team_id", "metric", "reported_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    metric: Mapped[str] = mapped_column(String(32))
    segment: Mapped[str] = mapped_column(String(100), default="")
    value: Mapped[float] = mapped_column(Float)
    reported_by: Mapped[str | None] = mapped_column(String(32))
    reported_at: Mapped[datetime]


class Question(Base):
    """The partnership question bank."""

    __tablename__ = "question"
    __table_args__ = (Index("ix_question_team", "team_id", "active"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    times_asked: Mapped[int] = mapped_column(Integer, default=0)
    last_asked_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class DiscussionPrompt(Base):
    """One posted prompt (bank question or data-driven fact) and its answer window."""

    __tablename__ = "discussion_prompt"
    __table_args__ = (Index("ix_discussion_prompt_team_opened", "team_id", "opened_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    question_id: Mapped[int | None] = mapped_column(ForeignKey("question.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    fact: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_by: Mapped[str | None] = mapped_column(String(32))  # None: the schedule
    message_ts: Mapped[str | None] = mapped_column(String(32))
    opened_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    recapped_at: Mapped[datetime | None]


class DiscussionAnswer(Base):
    __tablename__ = "discussion_answer"
    __table_args__ = (Index("ix_discussion_answer_prompt", "prompt_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    prompt_id: Mapped[int] = mapped_column(ForeignKey("discussion_prompt.id", ondelete="CASCADE"))
    # None for anonymous answers: what is not stored cannot leak
    user_id: Mapped[str | None] = mapped_column(String(32))
    side: Mapped[str | None] = mapped_column(String(16))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class AnswerVote(Base):
    __tablename__ = "answer_vote"
    __table_args__ = (UniqueConstraint("answer_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    answer_id: Mapped[int] = mapped_column(ForeignKey("discussion_answer.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class Outbox(Base):
    """A Slack write waiting to be sent, written in the same transaction as the change it reports."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_lead", "lead_id"),
        # claiming walks pending rows in lane order (rank_at: created_at + the lane's head start)
        Index("ix_outbox_rank", "status", "rank_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(48))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # what the sent message is: "lead_card" stores its ts on the lead
    purpose: Mapped[str] = mapped_column(String(32), default="message")
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    ref_table: Mapped[str | None] = mapped_column(String(32))
    ref_id: Mapped[int | None] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sending|sent|failed
    # bot.domain.outbox.Lane: person waiting 1, hot lead 2, single lead 3, bulk 4; rank_at is the
    # row's place in line (created_at + the lane's head start), so lower lanes age their way up
    lane: Mapped[int] = mapped_column(Integer, default=3)
    # nullable with a server default so the previous release can still queue rows mid-upgrade
    rank_at: Mapped[datetime] = mapped_column(nullable=True, server_default=func.now())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    result_ts: Mapped[str | None] = mapped_column(String(32))
    result_channel: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class ProcessedKey(Base):
    """Idempotency keys of requests already handled (Events API retries, replays)."""

    __tablename__ = "processed_key"
    __table_args__ = (UniqueConstraint("team_id", "key"), Index("ix_processed_key_expires", "expires_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ApiToken(Base):
    """A lead-API token of one workspace (bot.domain.api_tokens): only its SHA-256 is kept; its
    key ID (the token's first characters) finds the row and is safe to show. Revoked rows stay,
    so a list shows what existed; a name is unique among a workspace's active tokens."""

    __tablename__ = "api_token"
    __table_args__ = (
        UniqueConstraint("key_id"),
        Index(
            "ix_api_token_team_name_active",
            "team_id",
            "name",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ScheduleSlot(Base):
    """Claim of one (job, slot): the instance whose insert succeeds does the work."""

    __tablename__ = "schedule_slot"
    __table_args__ = (UniqueConstraint("team_id", "job", "slot"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    job: Mapped[str] = mapped_column(String(64))
    slot: Mapped[str] = mapped_column(String(120))
    claimed_by: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime]


class SettingAudit(Base):
    """Who changed which workspace setting when, from what to what (as people read the values),
    for `/handoff settings history`. Rows are never updated."""

    __tablename__ = "setting_audit"
    __table_args__ = (Index("ix_setting_audit_team_at", "team_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    old: Mapped[str] = mapped_column(Text)
    new: Mapped[str] = mapped_column(Text)
    by: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime]


# -- after the close: customers, follow-ups, insights, referrals, signals (issue 19) -----------


class Account(Base):
    """A customer: made (or joined) by a won lead; `key` is bot.domain.accounts.account_key."""

    __tablename__ = "account"
    __table_args__ = (
        UniqueConstraint("team_id", "key"),
        Index("ix_account_team_owner", "team_id", "owner_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(300))
    company: Mapped[str | None] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(255))
    owner_id: Mapped[str | None] = mapped_column(String(32))
    first_lead_id: Mapped[int | None] = mapped_column(BigInteger)
    won_leads: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Followup(Base):
    """A reminder a rep asked for; `sent_at` is set by the one instance that claims it."""

    __tablename__ = "followup"
    __table_args__ = (
        Index("ix_followup_team_due", "team_id", "sent_at", "due_at"),
        Index("ix_followup_team_user", "team_id", "user_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    lead_id: Mapped[int | None] = mapped_column(BigInteger)
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Insight(Base):
    """What a customer or prospect said, passed by a rep to marketing; `tags` a JSON list."""

    __tablename__ = "insight"
    __table_args__ = (Index("ix_insight_team_created", "team_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(32))
    side: Mapped[str | None] = mapped_column(String(16))  # sales | marketing, when known
    text: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    lead_id: Mapped[int | None] = mapped_column(BigInteger)
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    permalink: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Referral(Base):
    """A lead a customer referred, credited to the account and the rep."""

    __tablename__ = "referral"
    __table_args__ = (
        UniqueConstraint("team_id", "lead_id"),
        Index("ix_referral_team_created", "team_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    lead_id: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int] = mapped_column(BigInteger)
    rep_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class CustomerSignal(Base):
    """Marketing's engagement on an existing customer, for its owner; `outcome` once answered."""

    __tablename__ = "customer_signal"
    __table_args__ = (
        Index("ix_customer_signal_team_created", "team_id", "created_at"),
        Index("ix_customer_signal_team_owner", "team_id", "owner_id", "created_at"),
        Index("ix_customer_signal_team_held", "team_id", "sent_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int] = mapped_column(BigInteger)
    owner_id: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    activity: Mapped[str] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(16))  # reach_out | not_now
    reason: Mapped[str | None] = mapped_column(Text)
    outcome_by: Mapped[str | None] = mapped_column(String(32))
    outcome_at: Mapped[datetime | None]
    # when its card (or the day's batch holding it) was queued for the owner; NULL: held for a batch
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class WebhookEndpoint(Base):
    """Where a workspace's outbound events go (Standard Webhooks), with the events it wants."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (UniqueConstraint("team_id", "url"), Index("ix_webhook_endpoint_team", "team_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))  # whsec_…: we sign with it, so it is kept
    events: Mapped[list[str]] = mapped_column(JSON)  # ["*"] or event types ("lead.*")
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    # the first failure since the last success; failing for HANDOFF_WEBHOOK_DISABLE_HOURS disables it
    failing_since: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class WebhookEvent(Base):
    """One outbound event, written in the transaction of the change it reports; `body` is the
    JSON sent ({type, timestamp, data}), snapshotted then. One outbox row per endpoint sends it."""

    __tablename__ = "webhook_event"
    __table_args__ = (Index("ix_webhook_event_team_created", "team_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(48))
    lead_id: Mapped[int | None] = mapped_column(
        BigId
    )  # no foreign key: the event outlives an erased lead's row
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class CrmRecord(Base):
    """The CRM record a lead was synced to (a HubSpot contact, a Salesforce Lead): later syncs
    write to it by ID, and the card links to it."""

    __tablename__ = "crm_record"
    __table_args__ = (UniqueConstraint("team_id", "lead_id", "crm"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    lead_id: Mapped[int] = mapped_column(BigId)  # no foreign key: kept as the CRM keeps it
    crm: Mapped[str] = mapped_column(String(16))  # hubspot | salesforce
    record_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(500))
    synced_at: Mapped[datetime]
