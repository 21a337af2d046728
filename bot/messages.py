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

STATUS_HEADER = "*Handoff status* — Slack deliveries (outbox)"
STATUS_QUEUE = "• Waiting to be sent: *{depth}* · oldest waiting for {oldest}"
STATUS_NOTHING_WAITING = "nothing waiting"
STATUS_FAILED = "• Given up (admins were alerted): *{failed}*"
STATUS_LAST_ERRORS = "*Last errors*"
STATUS_NO_ERRORS = "No errors recorded."
RUN_UNKNOWN_JOB = "There is no job `{job}`. Jobs: {jobs}."
RUN_DONE = "Ran `{job}` for this period."
RUN_ALREADY = "`{job}` has already run for this period (perhaps on another instance); nothing to do."
