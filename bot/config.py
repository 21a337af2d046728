"""Settings: read once from the environment (and an optional .env), then passed in."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.availability import DEFAULT_OOO_EMOJI, DEFAULT_OOO_TEXT

SLACK_DEFAULT_API_URL = "https://slack.com/api/"


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line that names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(SLACK_DEFAULT_API_URL, validation_alias="SLACK_API_URL")
    slack_client_id: str | None = Field(None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, validation_alias="SLACK_CLIENT_SECRET")

    # repr=False: a PostgreSQL URL may carry a password
    database_url: str = Field("sqlite+aiosqlite:///handoff.db", validation_alias="DATABASE_URL", repr=False)
    # PostgreSQL connections kept open per instance (SQLite uses one): below the requests in flight
    # at once, connections past it were opened and closed per request (TLS try, codecs: 5 round trips)
    database_pool_size: int = Field(20, ge=1, le=200, validation_alias="HANDOFF_DB_POOL_SIZE")
    port: int = Field(3000, ge=0, le=65535, validation_alias="PORT")
    host: str = Field("0.0.0.0", validation_alias="HANDOFF_HOST")

    intake_token: SecretStr | None = Field(None, validation_alias="HANDOFF_INTAKE_TOKEN")
    sales_channel: str | None = Field(None, validation_alias="HANDOFF_SALES_CHANNEL")
    marketing_channel: str | None = Field(None, validation_alias="HANDOFF_MARKETING_CHANNEL")
    partnership_channel: str | None = Field(None, validation_alias="HANDOFF_PARTNERSHIP_CHANNEL")
    admins: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="HANDOFF_ADMINS")
    timezone: str = Field("UTC", validation_alias="HANDOFF_TIMEZONE")
    encryption_key: SecretStr | None = Field(None, validation_alias="HANDOFF_ENCRYPTION_KEY")
    # OAuth mode keeps every workspace's bot token; in plain text only when the operator says so
    allow_plaintext_tokens: bool = Field(False, validation_alias="HANDOFF_ALLOW_PLAINTEXT_TOKENS")
    duplicate_window_days: int = Field(30, ge=0, validation_alias="HANDOFF_DUPLICATE_WINDOW_DAYS")
    intake_rate_limit: int = Field(120, ge=1, validation_alias="HANDOFF_INTAKE_RATE_LIMIT")
    # the outbox pacer: Slack allows about 1 chat.postMessage a second per channel, in short bursts
    channel_rate: float = Field(1.0, gt=0, validation_alias="HANDOFF_CHANNEL_RATE")
    channel_burst: float = Field(5.0, ge=1, validation_alias="HANDOFF_CHANNEL_BURST")
    log_level: str = Field("INFO", validation_alias="HANDOFF_LOG_LEVEL")
    log_format: Literal["text", "json"] = Field("text", validation_alias="HANDOFF_LOG_FORMAT")
    # /metrics on its own port (not on PORT) and/or behind a bearer token
    metrics_port: int | None = Field(None, ge=1, le=65535, validation_alias="HANDOFF_METRICS_PORT")
    metrics_token: SecretStr | None = Field(None, validation_alias="HANDOFF_METRICS_TOKEN")
    # after SIGTERM, /readyz answers 503 this long before the server stops taking requests, so a
    # load balancer sees it and stops sending first
    drain_seconds: float = Field(5.0, ge=0, le=300, validation_alias="HANDOFF_DRAIN_SECONDS")
    # SLA defaults (routing rules may override the thresholds; all count working time)
    sla_remind_minutes: int = Field(30, ge=1, validation_alias="HANDOFF_SLA_REMIND_MINUTES")
    sla_escalate_minutes: int = Field(120, ge=1, validation_alias="HANDOFF_SLA_ESCALATE_MINUTES")
    sla_verdict_hours: int = Field(8, ge=1, validation_alias="HANDOFF_SLA_VERDICT_HOURS")
    sla_stage_days: int = Field(5, ge=1, validation_alias="HANDOFF_SLA_STAGE_DAYS")
    business_hours: str = Field("09:00-17:00", validation_alias="HANDOFF_BUSINESS_HOURS")
    business_days: str = Field("mon-fri", validation_alias="HANDOFF_BUSINESS_DAYS")
    digest_day: str = Field("mon", validation_alias="HANDOFF_DIGEST_DAY")
    digest_hour: int = Field(9, ge=0, le=23, validation_alias="HANDOFF_DIGEST_HOUR")
    # Slack's per-method tier limits (Tier 3 is 50+/min) times this: raise it where Slack allows more
    tier_scale: float = Field(1.0, gt=0, validation_alias="HANDOFF_TIER_SCALE")
    # of each workspace's tier budget per method, the share the bulk lane may use (the rest is kept
    # for what a person waits for and for hot leads)
    bulk_tier_share: float = Field(0.5, gt=0, le=1, validation_alias="HANDOFF_BULK_TIER_SHARE")
    slack_timeout: float = Field(10.0, gt=0, le=120, validation_alias="HANDOFF_SLACK_TIMEOUT")
    outbox_lease_seconds: int = Field(60, ge=5, validation_alias="HANDOFF_OUTBOX_LEASE_SECONDS")
    outbox_give_up_hours: float = Field(6.0, gt=0, validation_alias="HANDOFF_OUTBOX_GIVE_UP_HOURS")
    # speed to lead (issue 14): a lead at or above this score is hot unless its rule says otherwise;
    # more than bulk_threshold leads for one channel at once get a summary card, not a card each
    hot_score: int = Field(80, ge=0, le=100, validation_alias="HANDOFF_HOT_SCORE")
    bulk_threshold: int = Field(10, ge=1, validation_alias="HANDOFF_BULK_THRESHOLD")
    # …and so do one-lead requests past bulk_threshold for one channel within this many seconds (a
    # marketing tool posting one request per lead); 0 turns burst detection off
    burst_window_seconds: int = Field(60, ge=0, le=3600, validation_alias="HANDOFF_BURST_WINDOW_SECONDS")
    backlog_alert_minutes: float = Field(10.0, gt=0, validation_alias="HANDOFF_BACKLOG_ALERT_MINUTES")
    # outbound events (Standard Webhooks): the single-workspace shortcut, and every endpoint's limits
    # HubSpot (issue 17): leads in from a workflow's "Send a webhook", signed with the app secret
    hubspot_app_secret: SecretStr | None = Field(None, validation_alias="HUBSPOT_APP_SECRET")
    hubspot_field_map: str | None = Field(None, validation_alias="HUBSPOT_FIELD_MAP")
    # …and out: claims, verdicts and stages to the contact (a private app's token, CRM v3)
    hubspot_access_token: SecretStr | None = Field(None, validation_alias="HUBSPOT_ACCESS_TOKEN")
    hubspot_api_url: str = Field("https://api.hubapi.com", validation_alias="HUBSPOT_API_URL")
    hubspot_rate: float = Field(9.0, gt=0, validation_alias="HUBSPOT_RATE")  # calls a second
    # the public URL HubSpot calls, as it signs it (behind a proxy the request's own URL differs)
    hubspot_webhook_url: str | None = Field(None, validation_alias="HUBSPOT_WEBHOOK_URL")
    # Salesforce (issue 17): out through a connected app's client credentials flow (the login URL is
    # the org's My Domain, e.g. https://acme.my.salesforce.com), in from a Flow HTTP callout
    salesforce_login_url: str = Field("https://login.salesforce.com", validation_alias="SALESFORCE_LOGIN_URL")
    salesforce_client_id: str | None = Field(None, validation_alias="SALESFORCE_CLIENT_ID")
    salesforce_client_secret: SecretStr | None = Field(None, validation_alias="SALESFORCE_CLIENT_SECRET")
    salesforce_api_version: str = Field(
        "v62.0", pattern=r"^v\d+\.\d$", validation_alias="SALESFORCE_API_VERSION"
    )
    salesforce_rate: float = Field(10.0, gt=0, validation_alias="SALESFORCE_RATE")  # calls a second
    # REQUEST_LIMIT_EXCEEDED (the org's 24-hour API allowance, or too many long requests at once):
    # every call waits this long before trying again
    salesforce_limit_pause: float = Field(900.0, gt=0, validation_alias="SALESFORCE_LIMIT_PAUSE_SECONDS")
    salesforce_status_map: str | None = Field(None, validation_alias="SALESFORCE_STATUS_MAP")
    salesforce_field_map: str | None = Field(None, validation_alias="SALESFORCE_FIELD_MAP")
    # the Flow's callout door: off unless set (a Named Credential sends it as a bearer token)
    salesforce_inbound_token: SecretStr | None = Field(None, validation_alias="SALESFORCE_INBOUND_TOKEN")
    webhook_url: str | None = Field(None, validation_alias="HANDOFF_WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(None, validation_alias="HANDOFF_WEBHOOK_SECRET")
    webhook_disable_hours: float = Field(72.0, gt=0, validation_alias="HANDOFF_WEBHOOK_DISABLE_HOURS")
    webhook_allow_private: bool = Field(False, validation_alias="HANDOFF_WEBHOOK_ALLOW_PRIVATE")
    webhook_timeout: float = Field(10.0, gt=0, le=60, validation_alias="HANDOFF_WEBHOOK_TIMEOUT")
    webhook_rate: float = Field(50.0, gt=0, validation_alias="HANDOFF_WEBHOOK_RATE")  # per endpoint host
    webhook_burst: float = Field(100.0, ge=1, validation_alias="HANDOFF_WEBHOOK_BURST")

    @field_validator("intake_token", mode="before")
    @classmethod
    def _strong_intake_token(cls, value: object) -> object:
        from bot.domain.api_tokens import weak_secret_problem

        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None  # unset: the shortcut is off, workspace tokens still work
            problem = weak_secret_problem(value)
            if problem is not None:
                raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _oauth_tokens_encrypted(self) -> Settings:
        if self.oauth_enabled and self.encryption_key is None and not self.allow_plaintext_tokens:
            raise ValueError(
                "OAuth mode stores every workspace's bot token: set HANDOFF_ENCRYPTION_KEY to encrypt them, "
                "or HANDOFF_ALLOW_PLAINTEXT_TOKENS=true to store them in plain text"
            )
        return self

    @field_validator("hubspot_field_map")
    @classmethod
    def _hubspot_map(cls, value: str | None) -> str | None:
        from bot.domain.hubspot import parse_field_map

        parse_field_map(value)  # raises ValueError with the bad part
        return value

    @field_validator("salesforce_field_map", "salesforce_status_map")
    @classmethod
    def _salesforce_maps(cls, value: str | None, info: ValidationInfo) -> str | None:
        from bot.domain.salesforce import parse_field_map, parse_status_map

        (parse_field_map if info.field_name == "salesforce_field_map" else parse_status_map)(value)
        return value

    @field_validator("salesforce_inbound_token", mode="before")
    @classmethod
    def _strong_salesforce_token(cls, value: object) -> object:
        from bot.domain.api_tokens import weak_secret_problem

        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            problem = weak_secret_problem(value)
            if problem is not None:
                raise ValueError(f"SALESFORCE_INBOUND_TOKEN: {problem}")
        return value

    @model_validator(mode="after")
    def _salesforce_pair(self) -> Settings:
        if (self.salesforce_client_id is None) != (self.salesforce_client_secret is None):
            raise ValueError("set SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET together")
        return self

    @model_validator(mode="after")
    def _webhook_shortcut(self) -> Settings:
        from bot.domain.errors import InvalidInput
        from bot.domain.webhooks import check_url, secret_key

        if self.webhook_url is None and self.webhook_secret is None:
            return self
        if not self.webhook_url or self.webhook_secret is None:
            raise ValueError("set HANDOFF_WEBHOOK_URL and HANDOFF_WEBHOOK_SECRET together")
        try:
            check_url(self.webhook_url, allow_private=self.webhook_allow_private)
            secret_key(self.webhook_secret.get_secret_value())
        except InvalidInput as exc:
            raise ValueError(f"HANDOFF_WEBHOOK_URL/SECRET: {exc}") from exc
        return self

    @model_validator(mode="after")
    def _lease_outlasts_a_call(self) -> Settings:
        if self.outbox_lease_seconds < self.slack_timeout + 5:
            raise ValueError(
                "HANDOFF_OUTBOX_LEASE_SECONDS must exceed HANDOFF_SLACK_TIMEOUT by at least 5 seconds"
            )
        return self

    # customer signals (issue 19): cards per owner a day before the rest wait for the day's batch
    # DM, and signals per batch DM (two blocks each and a header: at most 24 under Slack's 50)
    signal_cards_per_day: int = Field(3, ge=0, le=100, validation_alias="HANDOFF_SIGNAL_CARDS_PER_DAY")
    signal_batch_size: int = Field(20, ge=1, le=24, validation_alias="HANDOFF_SIGNAL_BATCH_SIZE")

    # partnership discussions (issue 6)
    discuss_cron: str = Field("mon 10:00", validation_alias="HANDOFF_DISCUSS_CRON")
    discuss_window_days: int = Field(4, ge=1, le=30, validation_alias="HANDOFF_DISCUSS_WINDOW_DAYS")
    holidays: Annotated[tuple[date, ...], NoDecode] = Field((), validation_alias="HANDOFF_HOLIDAYS")
    sales_usergroup: str | None = Field(None, validation_alias="HANDOFF_SALES_USERGROUP")
    marketing_usergroup: str | None = Field(None, validation_alias="HANDOFF_MARKETING_USERGROUP")
    sales_users: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="HANDOFF_SALES_USERS")
    marketing_users: Annotated[tuple[str, ...], NoDecode] = Field(
        (), validation_alias="HANDOFF_MARKETING_USERS"
    )
    discuss_min_acceptance: float = Field(0.5, ge=0, le=1, validation_alias="HANDOFF_DISCUSS_MIN_ACCEPTANCE")
    discuss_min_sample: int = Field(5, ge=1, validation_alias="HANDOFF_DISCUSS_MIN_SAMPLE")
    discuss_reason_share: float = Field(0.5, ge=0, le=1, validation_alias="HANDOFF_DISCUSS_REASON_SHARE")

    # routing (issue 18): Slack statuses that say a rep is out of office (emoji, or words in the text)
    ooo_emoji: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_OOO_EMOJI, validation_alias="HANDOFF_OOO_EMOJI"
    )
    ooo_text: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_OOO_TEXT, validation_alias="HANDOFF_OOO_TEXT"
    )

    @field_validator(
        "admins", "sales_users", "marketing_users", "holidays", "ooo_emoji", "ooo_text", mode="before"
    )
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("sales_channel", "marketing_channel", "partnership_channel", mode="before")
    @classmethod
    def _channel_id(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip() or None
        if value is not None and not (isinstance(value, str) and value[:1] in "CGD" and value.isalnum()):
            raise ValueError("must be a Slack channel ID such as C0123456789")
        return value

    @field_validator("discuss_cron")
    @classmethod
    def _valid_schedule(cls, value: str) -> str:
        from bot.domain.prompts import schedule_trigger

        schedule_trigger(value, ZoneInfo("UTC"))  # raises ValueError with a usable sentence
        return value.strip()

    @field_validator("sales_usergroup", "marketing_usergroup", mode="before")
    @classmethod
    def _usergroup_id(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip() or None
        if value is not None and not (isinstance(value, str) and value[:1] == "S" and value.isalnum()):
            raise ValueError("must be a Slack user group ID such as S0123456789")
        return value

    @field_validator("digest_day", mode="before")
    @classmethod
    def _weekday(cls, value: object) -> object:
        if isinstance(value, str):
            day = value.strip().lower()[:3]
            if day not in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
                raise ValueError("must be a day of the week such as mon or monday")
            return day
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        from bot.domain.sla import parse_hours

        parse_hours(value)  # CalendarError is a ValueError: pydantic reports it
        return value.strip()

    @field_validator("business_days")
    @classmethod
    def _days(cls, value: str) -> str:
        from bot.domain.sla import parse_days

        parse_days(value)
        return value.strip().lower()

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith("postgres://"):
            value = "postgresql://" + value[len("postgres://") :]
        if value.startswith("postgresql://"):
            value = "postgresql+asyncpg://" + value[len("postgresql://") :]
        if value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value[len("sqlite:///") :]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    # -- derived -------------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def oauth_enabled(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    def missing_slack_credentials(self) -> list[str]:
        """The variables still needed to talk to a real Slack workspace."""
        missing = []
        if self.slack_signing_secret is None and not self.socket_mode:
            missing.append("SLACK_SIGNING_SECRET")
        if self.slack_bot_token is None and not self.oauth_enabled:
            missing.append("SLACK_BOT_TOKEN")
        return missing

    def secret(self, name: str) -> str:
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else ""


_ALIASES = {name: field.validation_alias for name, field in Settings.model_fields.items()}


def load_settings(**overrides: Any) -> Settings:
    """Build Settings or raise ConfigError with one line naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        # never echo the input: it may be a secret
        if not err["loc"]:  # a rule across variables: its sentence names them
            raise ConfigError(err["msg"].removeprefix("Value error, ")) from None
        field = str(err["loc"][0])
        variable = _ALIASES.get(field, field)
        raise ConfigError(f"{variable}: {err['msg'].removeprefix('Value error, ')}") from None
