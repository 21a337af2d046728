"""Text people read, in one place so it is easy to find and change."""

from __future__ import annotations

HELP = """*Handoff* passes leads from marketing to sales and brings the verdict back.
*Leads*
• `/lead` — hand over a lead (opens a form); `/lead jane@acme.com Jane Doe, Acme, webinar` — quick add
• `/lead mine` — your open leads · `/lead find <email|name|company>` · `/lead nurture`
• `/lead status <lead id> <contacted|meeting|opportunity|won|lost>`
*Targets* — `/targets` (add `public` to share) · `/targets set <metric> <value> [month|quarter] [segment]`
*Partnership* — `/discuss [question]` starts a discussion · `/discuss recap`
*Admin* — `/handoff route list|add|remove|test` · `/handoff away` / `/handoff back` · `/handoff status`"""

UNKNOWN_SUBCOMMAND = "I don't know `{command} {sub}`. Try `/handoff help`."
ADMINS_ONLY = "Only Handoff admins can do that. Ask one of: {admins}."
NO_ADMINS = "Only Handoff admins can do that, and none is configured (HANDOFF_ADMINS)."
SOMETHING_WENT_WRONG = "Sorry, something went wrong on our side. Nothing was changed; please try again."

LEAD_NOT_FOUND = "I can't find lead #{lead_id} in this workspace."
ALREADY_CLAIMED = "Too late — {owner} already claimed this lead."
ALREADY_CLAIMED_BY_YOU = "You already own this lead."
CLAIM_NOT_MEMBER = "Only members of {channel} (or configured sales reps) can claim this lead."
ONLY_OWNER = "Only the lead's owner ({owner}) or an admin can do that."
ILLEGAL_TRANSITION = "This lead is *{current}*; it can't move to *{wanted}*."
ALERT_DELIVERY_FAILED = ":warning: Handoff could not deliver a message to {channel}: `{error}`. {what}"

# -- verdicts, lifecycle, SLAs (issue 4) ------------------------------------------------------
VERDICT_NOT_CLAIMED = "Claim this lead first; only its owner can accept or reject it."
ALREADY_DONE = "Done already: this lead is *{status}*."
REASON_REQUIRED = "Pick a reason."
REASON_UNKNOWN = "Pick one of the reasons in the list."
REASON_OTHER_REQUIRED = "Say what the reason is (you picked “Other”)."
QUALITY_REQUIRED = "Rate the lead's quality from 1 to 5."
TOO_LONG = "Keep it under {limit} characters."
AMOUNT_INVALID = "Enter the deal amount as a number, e.g. 12000 or 12,000.50."
CURRENCY_INVALID = "Enter a three-letter currency code such as USD or EUR."
LOST_REASON_REQUIRED = "Say why the deal was lost."
RELEASED = "You released lead #{lead_id}; it is back in {channel} for anyone to claim."
STATUS_USAGE = (
    "Usage: `/lead status <lead id> <contacted|meeting|opportunity|won|lost>` "
    "(e.g. `/lead status 42 meeting`, `/lead status 42 won 12000 EUR`, `/lead status 42 lost chose a competitor`)"
)
STATUS_UNKNOWN_STAGE = "I don't know the stage “{stage}”. Use contacted, meeting, opportunity, won or lost."
STATUS_MOVED = "Lead #{lead_id} is now *{status}*."
FIND_USAGE = "Usage: `/lead find <email|name|company>` (at least 2 characters)."
FIND_NONE = "No lead matches “{query}”."
MINE_NONE = "You have no open leads. :tada:"
NURTURE_NONE = "No leads are waiting for nurture."
