"""Modals around a lead: "Hand over a lead" (/lead) and "Not for us" (hand it back to marketing).

Pure builders (slack_sdk models) plus the pure mapping between the form and LeadIn's fields.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.ids import INPUT_ACTION, BlockId, CallbackId
from bot.slack.mrkdwn import escape, truncate
from bot.storage.models import Lead

OTHER = "other"
SOURCES: tuple[tuple[str, str], ...] = (
    ("webinar", "Webinar"),
    ("content", "Content download"),
    ("event", "Event / trade show"),
    ("website", "Website form"),
    ("referral", "Referral"),
    ("paid", "Paid ads"),
    ("partner", "Partner"),
    (OTHER, "Other (type it below)"),
)

# LeadIn field → the input block that shows its error
FIELD_BLOCKS: dict[str, BlockId] = {
    "email": BlockId.EMAIL,
    "name": BlockId.NAME,
    "first_name": BlockId.NAME,
    "last_name": BlockId.NAME,
    "company": BlockId.COMPANY,
    "title": BlockId.TITLE,
    "phone": BlockId.PHONE,
    "source": BlockId.SOURCE,
    "campaign": BlockId.CAMPAIGN,
    "score": BlockId.SCORE,
    "region": BlockId.REGION,
    "segment": BlockId.SEGMENT,
    "notes": BlockId.NOTES,
}


def _text_input(
    label: str,
    block: BlockId,
    *,
    optional: bool = True,
    placeholder: str | None = None,
    hint: str | None = None,
    multiline: bool = False,
    max_length: int = 200,
) -> InputBlock:
    return InputBlock(
        label=label,
        block_id=block.value,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id=INPUT_ACTION, placeholder=placeholder, multiline=multiline, max_length=max_length
        ),
    )


def new_lead_modal(*, origin_channel: str | None = None) -> View:
    """The "Hand over a lead" form; private_metadata keeps the channel /lead was typed in."""
    blocks: list[Block] = [
        _text_input("Email", BlockId.EMAIL, optional=False, placeholder="jane@acme.com", max_length=320),
        _text_input("Name", BlockId.NAME, placeholder="Jane Doe"),
        _text_input("Company", BlockId.COMPANY),
        _text_input("Title", BlockId.TITLE, placeholder="VP Sales"),
        _text_input("Phone", BlockId.PHONE, max_length=50),
        InputBlock(
            label="Source",
            block_id=BlockId.SOURCE.value,
            optional=True,
            element=StaticSelectElement(
                action_id=INPUT_ACTION,
                placeholder="Where did the lead come from?",
                options=[Option(value=value, text=text) for value, text in SOURCES],
            ),
        ),
        _text_input(
            "Other source", BlockId.SOURCE_OTHER, hint="Only when the source is Other.", max_length=100
        ),
        _text_input("Campaign", BlockId.CAMPAIGN),
        _text_input("Score", BlockId.SCORE, placeholder="0–100", max_length=5),
        _text_input("Region", BlockId.REGION, placeholder="emea, na, apac…", max_length=100),
        _text_input("Segment", BlockId.SEGMENT, placeholder="enterprise, mid-market, smb…", max_length=100),
        _text_input(
            "Notes for sales",
            BlockId.NOTES,
            multiline=True,
            max_length=2000,
            placeholder="What they downloaded or attended, why they are warm",
        ),
    ]
    return View(
        type="modal",
        callback_id=CallbackId.LEAD_NEW.value,
        title="Hand over a lead",
        submit="Hand over",
        close="Cancel",
        blocks=blocks,
        private_metadata=origin_channel or "",
    )


def lead_data_from_form(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's values as LeadIn input, plus errors only the form can have (keyed by block)."""
    data = {
        field: values.get(block.value)
        for field, block in FIELD_BLOCKS.items()
        if field not in ("first_name", "last_name", "source")
    }
    errors: dict[str, str] = {}
    source = values.get(BlockId.SOURCE.value)
    other = values.get(BlockId.SOURCE_OTHER.value)
    if source == OTHER:
        if not other:
            errors[BlockId.SOURCE_OTHER.value] = "Say what the source is, or pick one from the list."
        data["source"] = other
    elif other and not source:
        data["source"] = other  # typed without picking "Other": take what they meant
    elif other and source:
        errors[BlockId.SOURCE_OTHER.value] = "Pick Other in the list to type your own source."
    else:
        data["source"] = source
    return {k: v for k, v in data.items() if v is not None}, errors


def form_errors(field_errors: dict[str, str], *, typed_source: bool = False) -> dict[str, str]:
    """LeadIn's field errors keyed by the block that shows them (response_action: errors)."""
    out: dict[str, str] = {}
    for field, message in field_errors.items():
        block = FIELD_BLOCKS.get(field, BlockId.EMAIL)
        if field == "source" and typed_source:
            block = BlockId.SOURCE_OTHER
        text = message[:1].upper() + message[1:]
        out.setdefault(block.value, truncate(text if text.endswith(".") else text + ".", 150))
    return out


def return_modal(lead: Lead) -> View:
    """ "Not for us": why the lead goes back to marketing (required)."""
    who = escape(lead.name or lead.email)
    if lead.company:
        who += f" · {escape(lead.company)}"
    return View(
        type="modal",
        callback_id=CallbackId.LEAD_RETURN.value,
        title="Not for us",
        submit="Hand back",
        close="Cancel",
        private_metadata=str(lead.id),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f"Hand *{truncate(who, 2500)}* back to marketing?")),
            InputBlock(
                label="Why is it not for sales?",
                block_id=BlockId.REASON.value,
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION,
                    multiline=True,
                    max_length=1000,
                    placeholder="e.g. a student, a competitor, outside our territory",
                ),
            ),
            ContextBlock(elements=[MarkdownTextObject(text="Marketing sees your reason in their channel.")]),
        ],
    )
