"""One validated model for a lead, whatever door it came in by (API, modal, text, CSV)."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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


class LeadIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    email: str
    external_id: str | None = None
    name: str | None = None
    first_name: str | None = Field(None, exclude=True)
    last_name: str | None = Field(None, exclude=True)
    company: str | None = None
    title: str | None = None
    phone: str | None = None
    source: str | None = None
    campaign: str | None = None
    score: int | None = Field(None, ge=0, le=100)
    region: str | None = None
    segment: str | None = None
    notes: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)

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

    @field_validator("external_id", "campaign", mode="before")
    @classmethod
    def _medium(cls, value: object) -> str | None:
        return clean_text(value, limit=200)

    @field_validator("name", "first_name", "last_name", "company", "title", mode="before")
    @classmethod
    def _short(cls, value: object) -> str | None:
        return clean_text(value, limit=200)

    @field_validator("source", "region", "segment", mode="before")
    @classmethod
    def _label(cls, value: object) -> str | None:
        text = clean_text(value, limit=100)
        return text.lower() if text else None

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: object) -> str | None:
        text = clean_text(value, limit=50)
        if text and not re.fullmatch(r"[0-9+()\-.\s/x]{3,50}", text):
            raise ValueError("must be a phone number (digits, spaces, + ( ) - .)")
        return text

    @field_validator("notes", mode="before")
    @classmethod
    def _notes(cls, value: object) -> str | None:
        return clean_text(value, limit=2000)

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
