"""The admins' Settings view in App Home (one page per group of settings) and its edit forms."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    InputInteractiveElement,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.domain import settings_catalog as catalog
from bot.domain.reasons import OTHER
from bot.domain.settings_catalog import PAGES, Kind, SettingsPage, SettingValue, Source
from bot.ids import INPUT_ACTION, ActionId, BlockId, CallbackId
from bot.slack.mrkdwn import escape, truncate

MAX_BLOCKS = 100  # Slack's limit for a Home view
RESET_CHOICE = "reset"
RETIRE_CHOICE = "retire"
REMOVE_CHOICE = "remove"
ADD = "+"


def settings_button(page_key: str = PAGES[0].key, text: str = "Settings") -> ButtonElement:
    return ButtonElement(text=text, action_id=f"{ActionId.HOME_SETTINGS.value}_{page_key}", value=page_key)


def admin_entry() -> SectionBlock:
    """The line an admin's Home starts with."""
    return SectionBlock(
        text=MarkdownTextObject(text=":gear: *Handoff admin* · channels, SLAs, reasons, schedules"),
        accessory=settings_button(),
    )


def _nav(data: SettingsPage) -> ActionsBlock:
    buttons = [ButtonElement(text="← Home", action_id=ActionId.HOME_PAGE.value, value="0")]
    for page in PAGES:
        button = settings_button(page.key, page.title)
        if page.key == data.page.key:
            button.style = "primary"
        buttons.append(button)
    return ActionsBlock(block_id="settings_nav", elements=buttons)


def _source(value: SettingValue) -> str:
    if value.source is Source.ENVIRONMENT and value.definition.env:
        return f"environment ({value.definition.env})"
    return value.source.value


def _row(value: SettingValue) -> SectionBlock:
    d = value.definition
    text = f"*{escape(d.label)}*: {catalog.shown(d, value.value)} · _{_source(value)}_\n{escape(d.help)}"
    return SectionBlock(
        block_id=f"setting_{d.key}",
        text=MarkdownTextObject(text=truncate(text, 3000)),
        accessory=ButtonElement(text="Edit", action_id=ActionId.SETTINGS_EDIT.value, value=d.key),
    )


def _reason_blocks(data: SettingsPage) -> list[Block]:
    blocks: list[Block] = [
        DividerBlock(),
        SectionBlock(
            block_id="reasons",
            text=MarkdownTextObject(text="*Reject reasons* — what sales pick from when rejecting a lead"),
            accessory=ButtonElement(text="Add a reason", action_id=ActionId.SETTINGS_REASON.value, value="+"),
        ),
    ]
    for code, label in data.reasons.items():
        blocks.append(
            SectionBlock(
                block_id=f"reason_{code}",
                text=MarkdownTextObject(text=f"• {escape(label)}"),
                accessory=ButtonElement(text="Edit", action_id=ActionId.SETTINGS_REASON.value, value=code),
            )
        )
    if data.retired:
        names = ", ".join(escape(label) for label in data.retired.values())
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(text=truncate(f"Retired (still shown on past leads): {names}", 2000))
                ]
            )
        )
    return blocks


def _schedule_blocks(data: SettingsPage) -> list[Block]:
    blocks: list[Block] = [
        DividerBlock(),
        SectionBlock(
            block_id="schedules",
            text=MarkdownTextObject(
                text="*Schedules per channel* — prompts in more channels, or at another time (or `off`) in "
                "one; without its own, the partnership channel follows *Discussion schedule*"
            ),
            accessory=ButtonElement(
                text="Add a channel schedule", action_id=ActionId.SETTINGS_SCHEDULE.value, value=ADD
            ),
        ),
    ]
    for channel, spec in data.schedules.items():
        blocks.append(
            SectionBlock(
                block_id=f"schedule_{channel}",
                text=MarkdownTextObject(text=f"• <#{channel}>: `{escape(spec)}` · _set in Slack_"),
                accessory=ButtonElement(
                    text="Edit", action_id=ActionId.SETTINGS_SCHEDULE.value, value=channel
                ),
            )
        )
    return blocks


def settings_view(data: SettingsPage) -> View:
    blocks: list[Block] = [
        HeaderBlock(text=f"Settings · {data.page.title}"),
        _nav(data),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Page {data.index + 1} of {len(PAGES)} · each value says where it comes from "
                    "(default, environment, or set in Slack) · changes apply at once · "
                    "`/handoff settings history` shows who changed what"
                )
            ]
        ),
        DividerBlock(),
    ]
    blocks += [_row(value) for value in data.rows]
    if data.page.key == "leads":
        blocks += _reason_blocks(data)
    if data.page.key == "partnership":
        blocks += _schedule_blocks(data)
    assert len(blocks) <= MAX_BLOCKS, len(blocks)
    return View(type="home", blocks=blocks)


# -- the forms ---------------------------------------------------------------------------------


def _element(value: SettingValue) -> InputInteractiveElement:
    d = value.definition
    if d.kind is Kind.CHANNEL:
        return ConversationSelectElement(
            action_id=INPUT_ACTION,
            placeholder="Pick a channel",
            initial_conversation=value.value or None,
            filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
        )
    if d.kind is Kind.USERS:
        users = list(catalog.users_of(value.value))
        return UserMultiSelectElement(
            action_id=INPUT_ACTION, placeholder="Pick people", initial_users=users or None
        )
    if d.kind is Kind.CHOICE:
        options = [Option(value=v, label=label) for v, label in d.choices]
        initial = next((o for o in options if o.value == value.value), None)
        return StaticSelectElement(action_id=INPUT_ACTION, options=options, initial_option=initial)
    text = catalog.to_text(d, value.value)
    return PlainTextInputElement(action_id=INPUT_ACTION, initial_value=text or None, max_length=500)


def edit_modal(value: SettingValue) -> View:
    d = value.definition
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{escape(d.label)}* — now {catalog.shown(d, value.value)} _({_source(value)})_"
            )
        ),
        InputBlock(
            block_id=BlockId.SETTING_VALUE.value,
            label=truncate(d.label, 2000),
            hint=truncate(d.help, 2000),
            optional=True,  # the service says what is missing, next to the field
            element=_element(value),
        ),
    ]
    if value.source is Source.SLACK and d.key != "admins":
        default = "the environment's value" if d.env else "the default"
        blocks.append(
            InputBlock(
                block_id=BlockId.SETTING_RESET.value,
                label="Reset",
                optional=True,
                element=CheckboxesElement(
                    action_id=INPUT_ACTION,
                    options=[Option(value=RESET_CHOICE, label=f"Reset to {default}")],
                ),
            )
        )
    return View(
        type="modal",
        callback_id=CallbackId.SETTINGS_EDIT.value,
        private_metadata=d.key,
        title=truncate(d.label, 24),
        submit="Save",
        close="Cancel",
        blocks=blocks,
    )


def reason_modal(code: str | None, label: str | None) -> View:
    blocks: list[Block] = [
        InputBlock(
            block_id=BlockId.REASON_LABEL.value,
            label="Reason",
            hint="What sales see in the Reject form.",
            optional=True,
            element=PlainTextInputElement(
                action_id=INPUT_ACTION, initial_value=label or None, max_length=150
            ),
        )
    ]
    if code and code != OTHER:
        blocks.append(
            InputBlock(
                block_id=BlockId.REASON_RETIRE.value,
                label="Retire",
                optional=True,
                hint="No longer offered; leads already rejected for it keep this label.",
                element=CheckboxesElement(
                    action_id=INPUT_ACTION, options=[Option(value=RETIRE_CHOICE, label="Retire this reason")]
                ),
            )
        )
    return View(
        type="modal",
        callback_id=CallbackId.SETTINGS_REASON.value,
        private_metadata=code or "",
        title="Edit reason" if code else "Add a reason",
        submit="Save",
        close="Cancel",
        blocks=blocks,
    )


def schedule_modal(channel: str | None, spec: str | None) -> View:
    """Add a channel's own prompt schedule (pick the channel), or change or remove one."""
    blocks: list[Block] = []
    if channel:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"Partnership prompts in <#{channel}>")))
    else:
        blocks.append(
            InputBlock(
                block_id=BlockId.SCHEDULE_CHANNEL.value,
                label="Channel",
                hint="Handoff must be in it: type /invite @Handoff there first.",
                optional=True,  # the service says what is missing, next to the field
                element=ConversationSelectElement(
                    action_id=INPUT_ACTION,
                    placeholder="Pick a channel",
                    filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
                ),
            )
        )
    blocks.append(
        InputBlock(
            block_id=BlockId.SCHEDULE_SPEC.value,
            label="When",
            hint="mon 10:00, mon,thu 9:30, weekdays 9:00, daily 17:00, a crontab line, or off "
            "(in the workspace's time zone)",
            optional=True,
            element=PlainTextInputElement(action_id=INPUT_ACTION, initial_value=spec or None, max_length=100),
        )
    )
    if channel:
        blocks.append(
            InputBlock(
                block_id=BlockId.SCHEDULE_REMOVE.value,
                label="Remove",
                optional=True,
                hint="Back to the default: the partnership channel follows Discussion schedule, others get none.",
                element=CheckboxesElement(
                    action_id=INPUT_ACTION,
                    options=[Option(value=REMOVE_CHOICE, label="Remove this channel's schedule")],
                ),
            )
        )
    return View(
        type="modal",
        callback_id=CallbackId.SETTINGS_SCHEDULE.value,
        private_metadata=channel or "",
        title="Channel schedule" if channel else "Add a schedule",
        submit="Save",
        close="Cancel",
        blocks=blocks,
    )
