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

# -- targets (issue #5) -----------------------------------------------------------------------
TARGETS_HELP = """*Shared targets*
• `/targets` — this month's and quarter's targets, pace and funnel (only you see it)
• `/targets public` — the same, posted in this channel for everyone
• `/targets set <metric> <value> [month|quarter|next-month|2026-Q3] [segment or #channel]` — admins
• `/targets set` — the same as a form · `/targets report <metric> <value|+n>` — a metric kept by hand
Metrics: {metrics}"""
TARGET_SAVED = "Target saved: *{metric}* for {scope}, {period}: *{value}*{previous}."
TARGET_REPORTED = "Recorded *{metric}* = *{value}* for {scope}, {period} (target {target})."
EXPORT_STARTED = "Preparing your {kind} export; it will arrive as a file in our DM."
EXPORT_READY = "Your Handoff {kind} export ({rows} rows{since})."
EXPORT_USAGE = "Usage: `/handoff export [leads|feedback|targets] [since YYYY-MM-DD]`"
