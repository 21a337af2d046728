"""Text people read, in one place so it is easy to find and change."""

from __future__ import annotations

# Every subcommand registered on a router appears here, and nothing else does:
# tests/unit/test_manifest.py checks both ways (and app.yaml's usage hints).
HELP = """*Handoff* passes leads from marketing to sales and brings the verdict back.
*Leads*
• `/lead` — hand over a lead (opens a form); `/lead jane@acme.com Jane Doe, Acme, webinar` — quick add
• `/lead mine` — your open leads · `/lead find <email|name|company>` · `/lead nurture` — leads to nurture
• `/lead status <lead id> <contacted|meeting|opportunity|won|lost>`
• `/lead accounts` — customers and their owners · `/lead followup <lead id> in 3 days|next monday|2026-12-15 [note]` · `/lead referral <email> from <customer>`
• `/insight [lead <id>] <what a customer said> [#tag]` — pass it to marketing (or the message shortcut *Send to marketing*)
*Targets*
• `/targets` — targets, pace and funnel (only you see it) · `/targets public` — the same, for the channel
• `/targets set <metric> <value> [month|quarter] [segment]` (admins) · `/targets report <metric> <value|+n>` · `/targets help`
*Partnership*
• `/discuss [question]` — start a discussion · `/discuss recap` · `/discuss questions list|add|remove` · `/discuss schedule` · `/discuss help`
*Admin*
• `/handoff route list|add|edit|remove|test|simulate|fairness` · `/handoff away [dates]` / `/handoff back` · `/handoff export [leads|feedback|targets] [since DATE]`
• `/handoff tokens create <name>|list|revoke <name>` — lead-API tokens for this workspace
• `/handoff webhooks list|add <url> [events]|remove|test|enable <id>` — signed outbound events
• `/handoff admins list|add|remove @user` — who may change things · `/handoff account owner <account> @rep` — reassign a customer
• `/handoff settings` — channels, SLAs, reasons… (change them in the Home tab → Settings) · `/handoff settings history`
• `/handoff status` — Slack delivery queue and errors · `/handoff status retry` — send the failed deliveries again · `/handoff run <job>` — run a scheduled job now · `/handoff help`"""

UNKNOWN_SUBCOMMAND = "I don't know `{command} {sub}`. Try `/handoff help`."
ADMINS_ONLY = "Only Handoff admins can do that. Ask one of: {admins}."
NO_ADMINS = "Only Handoff admins can do that, and none is configured (HANDOFF_ADMINS)."
ADMINS_ONLY_UNNAMED = "Only Handoff admins can do that. Ask whoever installed Handoff in this workspace."
ADMINS_USAGE = (
    "Usage: `/handoff admins` — who they are · `/handoff admins add @user` · `/handoff admins remove @user`"
)
ADMINS_LIST = "Handoff admins here: {admins}."
ADMINS_NONE = (
    "This workspace has no Handoff admins yet. Whoever installed Handoff (or HANDOFF_ADMINS) is the first."
)
ADMIN_ADDED = "{user} is now a Handoff admin here."
ADMIN_ALREADY = "{user} already is a Handoff admin here."
ADMIN_REMOVED = "{user} is no longer a Handoff admin here."
ADMIN_NOT_ONE = "{user} is not a Handoff admin here."
ADMINS_LAST_ONE = "That is the last admin: add another before removing them."
SOMETHING_WENT_WRONG = "Sorry, something went wrong on our side. Nothing was changed; please try again."
# a form whose answer (its field errors) came after Slack had closed it
FORM_CLOSED = "Slack closed *{title}* before I could answer, so nothing was saved. What needs fixing:"
FORM_ENTERED = "What you entered:"
FORM_AGAIN = "Open the form again and send it once more."

LEAD_NOT_FOUND = "I can't find lead #{lead_id} in this workspace."
ALREADY_CLAIMED = "Too late — {owner} already claimed this lead."
ALREADY_CLAIMED_BY_YOU = "You already own this lead."
NOT_OPEN_TO_CLAIM = "Too late — this lead is no longer open to claim: it is *{status}*."
CLAIM_NOT_MEMBER = "Only members of {channel} (or configured sales reps) can claim this lead."
ONLY_OWNER = "Only the lead's owner ({owner}) or an admin can do that."
ILLEGAL_TRANSITION = "This lead is *{current}*; it can't move to *{wanted}*."
ALERT_CRM_TOKEN = (
    ":warning: {crm} refused Handoff's access token ({status}): CRM sync has stopped. Fix the token, "
    "restart, then `/handoff status retry` sends what is waiting. (Told once a day.)"
)
ALERT_CRM_CREDENTIALS = (
    ":warning: {crm} refused Handoff's connected app (`{why}`): CRM sync has stopped. Check "
    "SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET, the app's client credentials flow and its Run As "
    "user, restart, then `/handoff status retry` sends what is waiting. (Told once a day.)"
)
CRM_SYNC_PENDING = ":hourglass_flowing_sand: CRM sync pending"
CRM_LINKS = {"hubspot": "HubSpot contact", "salesforce": "Salesforce Lead"}
ALERT_WEBHOOK_DISABLED = (
    ":warning: Handoff disabled the webhook endpoint {url} (#{id}): it has failed for {hours} hours "
    "(last error: `{error}`). Its events are kept: fix the receiver, then "
    "`handoff webhooks enable {id}` and `handoff webhooks replay --since <when>`."
)
WEBHOOKS_USAGE = (
    "Usage: `/handoff webhooks list` · `/handoff webhooks add <https://…> [events]` · "
    "`/handoff webhooks remove <id>` · `/handoff webhooks test <id>` · `/handoff webhooks enable <id>`\n"
    "Events: `*` (all), `lead.*`, or any of lead.created, lead.routed, lead.claimed, lead.released, "
    "lead.accepted, lead.rejected, lead.stage_changed, lead.sla_breached, target.updated, "
    "discussion.recap_posted."
)
WEBHOOK_ADDED = (
    "Webhook endpoint #{id} added for {url} ({events}). Its signing secret, shown only now:\n`{secret}`"
)
STATUS_WEBHOOKS = "*Webhook deliveries* (latest first; `handoff webhooks replay --since` sends again)"
WEBHOOKS_NONE = "No webhook endpoints yet. Add one: `/handoff webhooks add https://…`"
WEBHOOK_REMOVED = "Webhook endpoint #{id} ({url}) removed."
WEBHOOK_TEST_QUEUED = (
    "A `webhook.test` event is on its way to #{id} ({url}); `/handoff status` shows how it went."
)
WEBHOOK_ENABLED = "Webhook endpoint #{id} ({url}) enabled again."
ALERT_DELIVERY_FAILED = ":warning: Handoff could not deliver a message to {channel}: `{error}`. {what}"

# intake (/lead, the lead form, card buttons)
LEAD_USAGE = (
    "I couldn't read that as a lead ({why}). Try `/lead jane@acme.com Jane Doe, Acme, webinar` "
    "(name, company, source, campaign after the email; `score=80 region=emea` for more), "
    "or just `/lead` for the form."
)
LEAD_CREATED = ":white_check_mark: Thanks! *{who}* is on its way to {channel} (lead #{lead_id})."
LEAD_CREATED_ASSIGNED = LEAD_CREATED[:-1] + ", suggested owner {owner}."
LEAD_DUPLICATE = (
    ":repeat: *{who}* was already handed over (lead #{lead_id} in {channel}), so no second card: "
    "I noted your resubmission in its thread."
)
LEAD_NO_CHANNEL = (
    "No routing rule matches this lead and no default sales channel is set (HANDOFF_SALES_CHANNEL); "
    "ask an admin to add one. Nothing was saved."
)
WHY_HERE = "*Why is lead #{lead_id} in {channel}?*\n{reason}"
WHY_HERE_UNKNOWN = "Lead #{lead_id} has no routing record."
# the why of a routing decision (bot/slack/why.py); names and lead values arrive escaped
WHY_RULE = "Rule “{rule}” (priority {priority}) matched: {reasons}."
WHY_RULE_ANY = "it matches every lead"
WHY_DEFAULT = "No routing rule matched, so it went to the default sales channel."
WHY_CHECKED = "Checked before it: {rules}"
WHY_CHECKED_NONE = "Rules checked: {rules}"
WHY_CHECKED_MORE = " and {count} more"
WHY_ACCOUNT = "{company} is {owner}’s account (matched by {matched_by})."
WHY_ACCOUNT_SKIPPED = "{company} is {owner}’s account (matched by {matched_by}), but they are {why}."
WHY_DISTRIBUTION = {
    "turn": "Reps take turns in a strict order{extra}:",
    "least_loaded": "The rep with the fewest leads for their weight takes it, ties drawn at random{extra}:",
}
WHY_CANDIDATE = {
    "chosen": "• {rep} — *takes it*: {why}{counts}",
    "skipped": "• {rep} — skipped: {why}{counts}",
    "waiting": "• {rep} — not this time: {why}{counts}",
}
WHY_COUNTS = " ({today} today, {week} this week{weight})"
WHY_WAITING_MORE = "• … and {count} more whose turn it was not"
WHY_FALLBACK = "Everyone was unavailable, so the card went to the channel for anyone to claim."
WHY_ASSIGN = "Assign mode: {rep} gets it by DM with Accept / Pass."
# /handoff route simulate and fairness (bot/slack/routing_reports.py)
SIMULATE_HEAD = "*The last {count} leads replayed through the rules as they are*"
SIMULATE_HEAD_DRAFT = "*The last {count} leads replayed: the rules as they are → with the draft “{name}”*"
SIMULATE_NONE = "There are no leads to replay yet."
SIMULATE_MOVED = "{moved} of {count} leads would go somewhere else. Nothing was saved: `/handoff route add` saves the draft."
SIMULATE_SAME = "Every lead would go where it goes now. Nothing was saved."
SIMULATE_NOTE = "_Each rule's distribution starts from zero, caps count per lead's own day and week, and everyone is taken as in._"
FAIRNESS_HEAD = "*Routing fairness per rep* (offered by routing · claimed · passed · skipped for a cap)"
FAIRNESS_EMPTY = "nothing routed to a rep"
RETURN_NOT_NEW = "Lead #{lead_id} is already *{status}*; only a lead nobody has claimed can be handed back."
RETURNED_TO_MARKETING = (
    ":leftwards_arrow_with_hook: {user} handed *{who}* (lead #{lead_id}, {email}) back to marketing: {reason}"
)
RETURN_REASON_REQUIRED = "Please say why it is not for sales."
RETURN_NOT_ALLOWED = "You can't hand this lead back."

# partnership discussions
DISCUSS_STARTED = "Posted in {channel}. Answers go in its thread; the recap follows {when}."
DISCUSS_NO_CHANNEL = (
    "There is no partnership channel yet (HANDOFF_PARTNERSHIP_CHANNEL). Run `/discuss` in a channel "
    "to start the discussion there."
)
DISCUSS_EMPTY_BANK = "The question bank is empty. An admin can add one: `/discuss questions add <question>`."
DISCUSS_DIGEST_TITLE = "This week's partnership conversation"
DISCUSS_NO_PROMPT = "No discussion yet. Start one with `/discuss` (or `/discuss <your question>`)."
DISCUSS_CLOSED = "This discussion has closed and its recap is in the thread. Watch for the next question!"
DISCUSS_NOT_FOUND = "I can't find that discussion any more."
DISCUSS_ANSWER_EMPTY = "Write a few words first."
DISCUSS_ANSWER_TOO_LONG = "Please keep it under {limit} characters."
DISCUSS_QUESTION_LENGTH = "A question needs 10 to {limit} characters."
DISCUSS_QUESTION_EXISTS = "That question is already in the bank (#{id})."
DISCUSS_QUESTION_ADDED = "Added question #{id}: {text}"
DISCUSS_QUESTION_REMOVED = "Removed question #{id}: {text}"
DISCUSS_QUESTION_UNKNOWN = "There is no question {ref} in the bank. See `/discuss questions list`."
DISCUSS_QUESTIONS_USAGE = (
    "Use `/discuss questions list`, `/discuss questions add <question>` or `/discuss questions remove <#id>`."
)
DISCUSS_SCHEDULE_SHOW = "Scheduled prompts ({tz}):\n{lines}\nChange with `/discuss schedule <when> [#channel]` (e.g. `mon 10:00`), or `/discuss schedule off [#channel]`."
DISCUSS_SCHEDULE_NONE = "No scheduled prompts. Set one with `/discuss schedule mon 10:00 [#channel]`."
DISCUSS_SCHEDULE_SET = "Prompts in {channel}: {when} ({tz})."
DISCUSS_SCHEDULE_OFF = "No more scheduled prompts in {channel}."
DISCUSS_HELP = """*Partnership discussions*
• `/discuss` — start one now (this week's most notable fact, or a question from the bank)
• `/discuss <your question>` — start one with your own question
• `/discuss recap` — the summary of the last discussion
• `/discuss questions list` · admins: `/discuss questions add <question>` · `/discuss questions remove <#id>`
• `/discuss schedule` — when prompts are posted · admins: `/discuss schedule <when|off> [#channel]`"""
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
STATUS_HEADER = "*Handoff status* — Slack deliveries (outbox)"
STATUS_QUEUE = "• Waiting to be sent: *{depth}* · oldest waiting for {oldest}"
STATUS_NOTHING_WAITING = "nothing waiting"
STATUS_FAILED = "• Given up (admins were alerted): *{failed}*"
STATUS_LAST_ERRORS = "*Last errors*"
STATUS_NO_ERRORS = "No errors recorded."
STATUS_UNINSTALLED = (
    "Workspace {team} uninstalled ({why}, {at}): its jobs and deliveries are stopped, its data is kept."
)
STATUS_SLA_BACKLOG = (
    "• SLA reminders, escalations and nudges due: *{due}* leads · the oldest overdue for {oldest}"
)
STATUS_SLA_NOTHING_DUE = "• SLA reminders, escalations and nudges: none overdue"
STATUS_INSTANCE = "Answered by instance `{instance}` · Handoff {version} · {mode} mode"
DELIVERY_STATUS_USAGE = "Usage: `/handoff status` — the delivery queue · `/handoff status retry` — send the failed deliveries again"
STATUS_RETRIED = (
    "Queued *{count}* failed deliveries again; they go out now. `/handoff status` shows how it went."
)
STATUS_NOTHING_TO_RETRY = "There are no failed deliveries to send again."
RUN_UNKNOWN_JOB = "There is no job `{job}`. Jobs: {jobs}."
RUN_DONE = "Ran `{job}` for this period."
RUN_ALREADY = "`{job}` has already run for this period (perhaps on another instance); nothing to do."

# lead-API tokens (`/handoff tokens`, admins)
TOKENS_USAGE = """*Lead-API tokens* (admins) — each acts in this workspace only
• `/handoff tokens create <name>` — a new token, shown once (name it after the integration, e.g. `hubspot`)
• `/handoff tokens list` — names, key IDs, who made them, when last used
• `/handoff tokens revoke <name>` — it stops working at once"""
TOKEN_CREATED = (
    ":key: Token *{name}* for the lead API. Copy it now: it is shown only once and Handoff keeps"
    " only a hash of it.\n```{token}```\nUse it as `Authorization: Bearer <token>`, or sign requests"
    " with `X-Handoff-Key-Id: {key_id}` (see the README's Lead API section)."
)
TOKENS_NONE = "No lead-API tokens yet. `/handoff tokens create <name>` makes one."
TOKENS_HEADER = "*Lead-API tokens* of this workspace"
TOKEN_LINE = "• *{name}* `{key_id}…` — made by {by} {created}; last used {used}"
TOKEN_LINE_REVOKED = "• ~{name}~ `{key_id}…` — revoked {revoked}"
TOKEN_NEVER_USED = "never"
TOKEN_REVOKED = ":no_entry: Revoked *{name}* (`{key_id}…`): requests with it are refused from now on."

# settings from Slack (App Home → Settings, `/handoff settings`, admins)
SETTINGS_USAGE = """*Settings* (admins) — open Handoff's *Home* tab and click *Settings* to change them
• `/handoff settings` — every setting, its value and where it comes from
• `/handoff settings history` — who changed what, when"""
SETTINGS_HEADER = "*Settings* of this workspace (Home tab → Settings to change them)"
SETTINGS_LINE = "• *{label}*: {value} _({source})_"
SETTINGS_HISTORY_HEADER = "*Settings history* (latest first)"
SETTINGS_HISTORY_LINE = "• {when} {who} *{label}*: {old} → {new}"
SETTINGS_HISTORY_NONE = "No setting has been changed from Slack yet."
SETTING_UNKNOWN = "This setting does not exist (any more)."
SETTING_ADMINS_NO_RESET = "Admins cannot be reset: change the list instead (at least one admin stays)."
SETTING_INVITE_FIRST = (
    "Handoff is not in <#{channel}>: type `/invite @Handoff` there first, then pick it again."
)
REASON_EMPTY = "A reason needs a label."
REASON_TOO_LONG = "At most {limit} characters."
REASON_EXISTS = "There is already a reason with this label."
REASON_TOO_MANY = "At most {limit} reasons are offered; retire one first."
REASON_GONE = "This reason is no longer offered (someone changed the list); reopen Settings."
REASON_OTHER_STAYS = "“Other” is always offered; rename it instead."
# bulk batches (issue 14): one summary card, the leads listed in its thread
BULK_SUMMARY = "*{label}*: {count} new lead{s}"
BULK_SUMMARY_HOT = " · {hot} hot posted on their own"
BULK_SUMMARY_WAITING = "{unclaimed} waiting for a claim · every lead is listed in the thread"
BULK_SUMMARY_FALLBACK = "{label}: {count} new lead{s}"
BULK_LINES_FALLBACK = "{count} leads of {label}"
BULK_CLAIM = "Claim"
BULK_CLAIM_NEXT = "Claim next"
BULK_CLAIMED_NEXT = "You have lead #{lead_id}, {name}: its card is in the thread of {label}."
BULK_NOTHING_LEFT = "Every lead of this batch has been claimed."
BULK_DEFAULT_LABEL = "Imported leads"

# the outbox's queue in view (issue 14)
STATUS_CHANNELS = "*Queued per channel* (posts go out at about {rate} a second per channel)"
STATUS_CHANNEL_BACKLOG = "• {channel}: *{count}* waiting · about {drain} to send at {rate}/s"
BACKLOG_ALERT = (
    ":hourglass_flowing_sand: Slack messages are queuing up: this would take more than {minutes} min "
    "to send at Slack's rate. Hot leads and replies to clicks still go first.\n{channels}"
)

# assign mode (issue 14): a lead offered to one rep by DM
OFFER_TEXT = "New lead for you: {name}"
OFFER_HEADLINE = ":wave: *A new lead for you* — accept it, or pass it to the next rep."
OFFER_CONTEXT = "#{lead_id} · offered by round robin · no answer in time hands it on too"
OFFER_ACCEPT = "Accept"
OFFER_PASS = "Pass"
OFFER_ACCEPTED = ":white_check_mark: You accepted #{lead_id}, {name}: its card is in {channel}."
OFFER_TAKEN = "#{lead_id}, {name}, is now {owner}'s."
OFFER_HANDED_ON = ":arrow_right: #{lead_id}, {name}, went on to the next rep."
OFFER_NOT_YOURS = "This lead is no longer offered to you."
OFFER_NOTICE = "New lead #{lead_id}, {name}: offered to {rep} by {how} (rule “{rule}”)."
OFFER_HOW = {
    "round robin": "round robin",
    "least loaded": "least load",
    "account owner": "account (its owner)",
}
OFFER_NOTICE_MANY = "{count} new leads offered to {reps} (rule “{rule}”)."

# after the close: customers, follow-ups, insights, referrals, signals (issue 19)
ACCOUNT_USAGE = (
    "Usage: `/handoff account owner <account> @rep` (admins) · `/lead accounts` lists the customers."
)
ACCOUNT_OWNER_MOVED = (
    "Admins reassign a customer with `/handoff account owner <account> @rep` "
    "(`/handoff` reads @mentions as people; `/lead` gets them as plain text)."
)
ACCOUNT_NOT_FOUND = "No customer matches “{account}”."
ACCOUNT_AMBIGUOUS = "{count} customers match; use the name, the domain or the #id from `/lead accounts`."
ACCOUNT_NOW_YOURS = ":handshake: <@{by}> made you the owner of the customer *{company}*."
ACCOUNT_OWNER_SET = "{owner} now owns the customer *{company}* (before: {before})."
ACCOUNTS_NONE = "No customers yet: a won lead makes its company a customer."
FOLLOWUP_USAGE = "Usage: `/lead followup <lead id> in 3 days|tomorrow|next monday|2026-12-15 [note]`"
FOLLOWUP_WHEN_INVALID = (
    "Say when: `in 3 days`, `tomorrow`, `next monday` or a date like `2026-12-15` (within a year)."
)
FOLLOWUP_SET = ":alarm_clock: I'll remind you about {what} {when}."
FOLLOWUP_DUE = ":alarm_clock: Follow-up: {what}."
FOLLOWUP_GENERIC = "something you asked me to remind you of"
FOLLOWUPS_UPCOMING = "*Upcoming follow-ups*"
INSIGHT_USAGE = "Usage: `/insight [lead <id>] <what a customer or prospect said> [#tag]` — it goes to the marketing channel."
INSIGHT_SHARED = ":speech_balloon: Sent to marketing{tags}. Thank you!"
INSIGHT_NO_CHANNEL = "No marketing channel is set up yet: ask an admin to pick one in Settings."
INSIGHT_TITLE = ":speech_balloon: *Field insight* from {author}{link}"
INSIGHTS_TOP = "*Field insights this week* ({count}): {tags}"
RETENTION_DIGEST_TITLE = "After the close"
REFERRAL_USAGE = "Usage: `/lead referral <email> from <customer>` — a lead the customer referred, credited to them and you."
REFERRAL_NOTE = "Referred by the customer {company} (through <@{rep}>)."
REFERRAL_SAME_COMPANY = "That address is at the customer itself: a referral is someone new."
REFERRAL_CREATED = (
    ":handshake: Lead #{lead_id} ({email}) created, referred by *{company}* and credited to you."
)
REFERRAL_DUPLICATE = (
    "Lead #{lead_id} ({email}) was already handed over; the referral by *{company}* is noted."
)
SIGNAL_CARD = ":mega: *Signal on your customer {company}*: {who} — {activity}"
SIGNAL_BATCH = ":mega: *{count} signals on your customers today*"
SIGNAL_OUTCOME_REACH_OUT = ":white_check_mark: {rep} will reach out to {who} at {company} after “{activity}”."
SIGNAL_OUTCOME_NOT_NOW = ":zzz: {rep}: not now for {who} at {company} after “{activity}”."
SIGNAL_ANSWERED = "Noted — marketing will hear it."
SIGNAL_ANSWERED_REACH_OUT = ":white_check_mark: {rep} will reach out"
SIGNAL_ANSWERED_NOT_NOW = ":zzz: {rep}: not now"
SIGNAL_ALREADY = "This signal was already answered ({outcome})."
SIGNAL_ONLY_OWNER = "Only the customer's owner ({owner}) or an admin can answer this signal."
SIGNAL_NOT_FOUND = "I can't find that signal in this workspace."
SIGNAL_REASON_REQUIRED = "Say why, in a few words: marketing reads it."

# Settings: discussion schedules per channel (issue 20)
SCHEDULE_PICK_CHANNEL = "Pick the channel the prompts go to."
SCHEDULE_EMPTY = "Say when, e.g. `mon 10:00`, `weekdays 9:00`, `daily 17:00`, or `off` for none."
SCHEDULE_TOO_MANY = "At most {limit} channels may have their own schedule; remove one first."
REMIND_LEAD_OWNER_ONLY = (
    "*Remind me* on a lead card is for the lead's owner. "
    "For a reminder of your own: `/lead followup {lead_id} in 3 days [note]`."
)
