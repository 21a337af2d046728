"""Every Slack-facing identifier, spelled once. app.yaml must agree (tests/unit/test_manifest.py)."""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    LEAD = "/lead"
    HANDOFF = "/handoff"
    TARGETS = "/targets"
    DISCUSS = "/discuss"
    INSIGHT = "/insight"


# Commands whose text Slack escapes (app.yaml `should_escape: true`): a user, a channel, an email
# or a link arrives as <@U…|name>, <#C…|name>, <mailto:…|…>, <http…|…>, so IDs can be read from it.
# The others receive what was typed: `@rob`, `#sales`, `a@b.co`.
ESCAPED_COMMANDS: frozenset[Command] = frozenset({Command.HANDOFF, Command.TARGETS, Command.DISCUSS})


class ActionId(StrEnum):
    # lead card
    CLAIM = "lead_claim"
    CLAIM_NEXT = "bulk_claim_next"  # on a bulk batch's summary; value: the batch ID
    OFFER_ACCEPT = "offer_accept"  # assign mode, in the rep's DM
    OFFER_PASS = "offer_pass"
    DETAILS = "lead_details"
    NOT_FOR_US = "lead_not_for_us"
    WHY_HERE = "lead_why_here"
    ACCEPT = "lead_accept"
    REJECT = "lead_reject"
    RELEASE = "lead_release"
    STAGE = "lead_stage"  # "lead_stage_<stage>" per button (unique in the block); value "<lead_id>:<stage>"
    # discussions
    SHARE_THOUGHTS = "discussion_share"
    PLUS_ONE = "discussion_plus_one"
    # home
    HOME_PAGE = "home_page"
    HOME_SETTINGS = "home_settings"  # "home_settings_<page>" per button (unique in the block)
    SETTINGS_EDIT = "settings_edit"  # value: the setting's key
    SETTINGS_REASON = "settings_reason"  # value: a reject reason's code, "" to add one
    SETTINGS_SCHEDULE = "settings_schedule"  # value: a channel with its own prompt schedule, "+" to add one
    # after the close (issue 19)
    REMIND_ME = "remind_me"  # value: "lead:<id>" | "account:<id>" | "signal:<id>"
    SIGNAL_REACH_OUT = "signal_reach_out"  # value: the signal's id
    SIGNAL_NOT_NOW = "signal_not_now"
    SIGNAL_WHY = "signal_why"
    ACCOUNT_REFERRAL = "account_referral"  # value: the account's id


class CallbackId(StrEnum):
    LEAD_NEW = "lead_new"
    LEAD_ACCEPT = "lead_accept_modal"
    LEAD_REJECT = "lead_reject_modal"
    LEAD_RETURN = "lead_return_modal"
    LEAD_WON = "lead_won_modal"
    LEAD_LOST = "lead_lost_modal"
    LEAD_DETAILS = "lead_details_modal"
    DISCUSSION_ANSWER = "discussion_answer_modal"
    TARGET_SET = "target_set_modal"
    SETTINGS_EDIT = "settings_edit_modal"
    SETTINGS_REASON = "settings_reason_modal"
    SETTINGS_SCHEDULE = "settings_schedule_modal"
    REMIND_ME = "remind_me_modal"
    INSIGHT = "insight_modal"
    SIGNAL_WHY = "signal_why_modal"
    REFERRAL = "referral_modal"


class BlockId(StrEnum):
    """Input blocks in modals; the action_id inside each is "value"."""

    EMAIL = "email"
    NAME = "name"
    COMPANY = "company"
    TITLE = "title"
    PHONE = "phone"
    SOURCE = "source"
    SOURCE_OTHER = "source_other"
    CAMPAIGN = "campaign"
    SCORE = "score"
    REGION = "region"
    SEGMENT = "segment"
    NOTES = "notes"
    QUALITY = "quality"
    COMMENT = "comment"
    REASON = "reason"
    REASON_OTHER = "reason_other"
    AMOUNT = "amount"
    CURRENCY = "currency"
    LOST_REASON = "lost_reason"
    ANSWER = "answer"
    ANONYMOUS = "anonymous"
    METRIC = "metric"
    TARGET_VALUE = "target_value"
    PERIOD = "period"
    LEAD_ACTIONS = "lead_actions"
    LEAD_CRM = "lead_crm"  # the card's CRM line: record links, "CRM sync pending"
    MANUAL_METRIC = "manual_metric"
    SETTING_VALUE = "setting_value"
    SETTING_RESET = "setting_reset"
    REASON_LABEL = "reason_label"
    REASON_RETIRE = "reason_retire"
    SCHEDULE_CHANNEL = "schedule_channel"
    SCHEDULE_SPEC = "schedule_spec"
    SCHEDULE_REMOVE = "schedule_remove"
    WHEN = "when"
    NOTE = "note"
    INSIGHT_TEXT = "insight_text"
    TAGS = "tags"
    LEAD_REF = "lead_ref"
    SIGNAL_REASON = "signal_reason"


class Shortcut(StrEnum):
    """Message shortcuts (app.yaml features.shortcuts, type message)."""

    SEND_TO_MARKETING = "send_to_marketing"


INPUT_ACTION = "value"


class Event(StrEnum):
    APP_HOME_OPENED = "app_home_opened"
    APP_UNINSTALLED = "app_uninstalled"
    TOKENS_REVOKED = "tokens_revoked"
