"""One validated model for a lead, whatever door it came in by (API, modal, text, CSV)."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.domain.errors import InvalidInput

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_FIELDS_BYTES = 16_000


def clean_text(value: object, *, limit: int) -> str | None:
    """Trim, drop control characters, NFC-normalise; empty becomes None."""
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise ValueError("must be text")
    text = unicodedata.normalize("NFC", _CONTROL.sub("", str(value))).strip()
    if len(text) > limit:
        raise ValueError(f"must be at most {limit} characters")
    return text or None


def _text(limit: int, description: str | None = None) -> Any:
    """An optional text field of at most `limit` characters: the limit the validators enforce (with
    their own wording) and the one the published OpenAPI schema shows."""
    return Field(None, max_length=limit, description=description)


# The lead API's OpenAPI schema is generated from this model (bot/handlers/openapi.py): the
# docstring, each field's limit and description are what API clients read.
class LeadIn(BaseModel):
    """One lead. Only email is required; unknown properties are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    email: str = Field(max_length=320, json_schema_extra={"format": "email"})
    external_id: str | None = _text(
        200,
        "Your ID for the lead; resubmitting the same external_id is idempotent. "
        "Without it, email + source is the idempotency key.",
    )
    name: str | None = _text(200)
    first_name: str | None = Field(
        None, exclude=True, max_length=200, description="Used when name is absent."
    )
    last_name: str | None = Field(None, exclude=True, max_length=200)
    company: str | None = _text(200)
    title: str | None = _text(200)
    phone: str | None = _text(50)
    source: str | None = _text(100, "Stored lower-case, e.g. webinar.")
    campaign: str | None = _text(200)
    score: int | None = Field(None, ge=0, le=100)
    region: str | None = _text(100)
    segment: str | None = _text(100)
    notes: str | None = _text(2000, "Why the lead is warm, for sales.")
    priority: Literal["high", "normal"] | None = Field(
        None,
        description='"high" puts the lead in the hot lane: its own card, ahead of bulk work.',
    )
    fields: dict[str, Any] = Field(
        default_factory=dict,
        description=f"Free fields, kept as sent (at most {MAX_FIELDS_BYTES:,} bytes as JSON).",
    )

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("an email address is required")
        try:
            checked = validate_email(value.strip(), check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValueError(f"not a valid email address ({exc})") from None
        return checked.normalized.lower()

    @field_validator(
        "external_id",
        "campaign",
        "name",
        "first_name",
        "last_name",
        "company",
        "title",
        "notes",
        mode="before",
    )
    @classmethod
    def _plain(cls, value: object, info: ValidationInfo) -> str | None:
        return clean_text(value, limit=LIMITS[info.field_name or ""])

    @field_validator("source", "region", "segment", mode="before")
    @classmethod
    def _label(cls, value: object, info: ValidationInfo) -> str | None:
        text = clean_text(value, limit=LIMITS[info.field_name or ""])
        return text.lower() if text else None

    @field_validator("priority", mode="before")
    @classmethod
    def _priority(cls, value: object) -> object:
        return value.strip().lower() or None if isinstance(value, str) else value

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: object) -> str | None:
        text = clean_text(value, limit=LIMITS["phone"])
        if text and not re.fullmatch(r"[0-9+()\-.\s/x]{3,50}", text):
            raise ValueError("must be a phone number (digits, spaces, + ( ) - .)")
        return text

    @field_validator("score", mode="before")
    @classmethod
    def _score(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not re.fullmatch(r"-?\d+", value):
                raise ValueError("must be a whole number from 0 to 100")
            return int(value)
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("must be a whole number from 0 to 100")
        return value

    @field_validator("fields", mode="before")
    @classmethod
    def _fields(cls, value: object) -> object:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError("must be an object")
        if len(json.dumps(value, default=str)) > MAX_FIELDS_BYTES:
            raise ValueError(f"must be at most {MAX_FIELDS_BYTES} bytes as JSON")
        return value

    @model_validator(mode="after")
    def _full_name(self) -> LeadIn:
        if not self.name and (self.first_name or self.last_name):
            self.name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return self

    @property
    def email_domain(self) -> str:
        return self.email.rsplit("@", 1)[-1]

    def dedupe_key(self) -> str:
        """external_id when given, else email + source: the same lead sent twice is one lead."""
        if self.external_id:
            return f"ext:{self.external_id}"
        return f"email:{self.email}|{self.source or ''}"


# each text field's max_length, declared once on the model, read by its validator
LIMITS: dict[str, int] = {
    name: meta.max_length
    for name, info in LeadIn.model_fields.items()
    for meta in info.metadata
    if isinstance(getattr(meta, "max_length", None), int)
}


def field_errors(exc: ValidationError) -> dict[str, str]:
    """pydantic's errors as {field: sentence}, first error per field."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "lead"
        message = "is required" if err["type"] == "missing" else str(err["msg"]).removeprefix("Value error, ")
        errors.setdefault(field, message)
    return errors


def parse_lead(data: object) -> LeadIn:
    """Validate one lead or raise InvalidInput with field errors."""
    if not isinstance(data, dict):
        raise InvalidInput({"lead": "must be a JSON object"})
    try:
        return LeadIn.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from None
