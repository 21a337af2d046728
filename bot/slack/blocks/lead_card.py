"""The lead card: a pure function from a lead (and its rule) to Block Kit models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.lead import ACCEPTED_LIKE, Status, next_stages
from bot.domain.reasons import reason_label
from bot.domain.sla import human_duration
from bot.ids import ActionId, BlockId
from bot.messages import CRM_LINKS, CRM_SYNC_PENDING
from bot.slack.mrkdwn import escape, mention, truncate
from bot.storage.models import Lead


def _crm_line(links: Sequence[tuple[str, str]], pending: bool) -> str:
    parts = [
        f"<{escape(url).replace('|', '%7C')}|{CRM_LINKS.get(crm, escape(crm))}>"
        for crm, url in links
        if url.startswith("https://") or url.startswith("http://")
    ]
    if pending:
        parts.append(CRM_SYNC_PENDING)
    return " · ".join(parts)


def display_name(lead: Lead) -> str:
    """Plain text (headers are plain_text, so nothing in it can ping anyone)."""
    who = lead.name or lead.email
    return f"{who} · {lead.company}" if lead.company else who


def slack_date(when: datetime | None, fmt: str = "{date_short_pretty} {time}") -> str:
    """Shown in each reader's own time zone; the fallback is UTC."""
    if when is None:
        return "—"
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{fmt}|{fallback}>"


def minutes_between(start: datetime | None, end: datetime | None) -> str:
    """Wall-clock time from one step to the next ('25 min', '3 h 10 min', '2 days')."""
    return "—" if start is None or end is None else human_duration(end - start)


def _field(label: str, value: object) -> MarkdownTextObject:
    text = escape(value) if value not in (None, "") else "—"
    return MarkdownTextObject(text=f"*{label}*\n{truncate(text, 1900)}")


def _pair(a: str | None, b: str | None) -> str | None:
    parts = [p for p in (a, b) if p]
    return " / ".join(parts) if parts else None


def _button(text: str, action: ActionId | str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=text, action_id=str(action), value=value, style=style)


def _status_line(lead: Lead, reasons: dict[str, str] | None) -> str:
    status = Status(lead.status)
    if status is Status.NEW:
        return ":new: *Waiting for a claim*"
    if status is Status.CLAIMED:
        after = minutes_between(lead.created_at, lead.claimed_at)
        return f":raising_hand: *Claimed by {mention(lead.owner_id)}* · {after} after arrival"
    if status is Status.REJECTED:
        line = f":x: *Rejected by {mention(lead.owner_id)}* · {escape(reason_label(lead.reject_reason, reasons))}"
        if lead.nurture:
            line += " · :seedling: nurture"
        return line + _quality(lead)
    if status is Status.RETURNED:
        return ":leftwards_arrow_with_hook: *Handed back to marketing*"
    icon = {Status.WON: ":trophy:", Status.LOST: ":heavy_multiplication_x:"}.get(status, ":white_check_mark:")
    line = f"{icon} *{status.label}* · owner {mention(lead.owner_id)}"
    if status is Status.WON and lead.won_amount is not None:
        line += f" · {lead.won_amount:,.2f} {escape(lead.currency or '')}".rstrip()
    if status is Status.LOST and lead.lost_reason:
        line += f" · {escape(truncate(lead.lost_reason, 300))}"
    return line + _quality(lead)


def _quality(lead: Lead) -> str:
    return f" · quality {lead.quality}/5" if lead.quality else ""


def stage_action_id(stage: Status) -> str:
    """Slack wants action_ids unique within a block, so each stage button has its own."""
    return f"{ActionId.STAGE.value}_{stage.value}"


def _actions(lead: Lead) -> list[ButtonElement]:
    lid = str(lead.id)
    status = Status(lead.status)
    # the owner's own follow-up, while the lead is theirs and open (issue 19)
    remind = _button("Remind me", ActionId.REMIND_ME, f"lead:{lid}")
    if status is Status.NEW:
        return [
            _button("Claim", ActionId.CLAIM, lid, "primary"),
            _button("Details", ActionId.DETAILS, lid),
            _button("Not for us", ActionId.NOT_FOR_US, lid),
            _button("Why here?", ActionId.WHY_HERE, lid),
        ]
    if status is Status.CLAIMED:
        return [
            _button("Accept", ActionId.ACCEPT, lid, "primary"),
            _button("Reject", ActionId.REJECT, lid, "danger"),
            _button("Release", ActionId.RELEASE, lid),
            _button("Details", ActionId.DETAILS, lid),
            remind,
        ]
    if status in ACCEPTED_LIKE:
        buttons = [_button(s.label, stage_action_id(s), f"{lid}:{s.value}") for s in next_stages(status)]
        buttons.append(_button("Lost", stage_action_id(Status.LOST), f"{lid}:{Status.LOST.value}", "danger"))
        buttons.append(_button("Details", ActionId.DETAILS, lid))
        buttons.append(remind)
        return buttons
    return [_button("Details", ActionId.DETAILS, lid)]


def lead_card(
    lead: Lead,
    *,
    rule_name: str | None = None,
    reasons: dict[str, str] | None = None,
    crm_links: Sequence[tuple[str, str]] = (),
    crm_pending: bool = False,
) -> tuple[str, list[Block]]:
    """(fallback text, blocks) for the lead's card in its current state; `reasons` are the
    workspace's reject-reason labels (SettingRepo.reject_reasons); `crm_links` the (CRM, URL) of
    its synced records and `crm_pending` whether a CRM write is still waiting, shown in a context
    line of their own above the buttons."""
    header = truncate(display_name(lead), 150)
    blocks: list[Block] = [
        HeaderBlock(text=header),
        SectionBlock(
            fields=[
                _field("Email", lead.email),
                _field("Title", lead.title),
                _field("Source / campaign", _pair(lead.source, lead.campaign)),
                _field("Score", lead.score),
                _field("Region / segment", _pair(lead.region, lead.segment)),
                _field("Phone", lead.phone),
            ]
        ),
    ]
    if lead.notes:
        notes = truncate(escape(lead.notes), 2900)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Notes from marketing*\n{notes}")))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=_status_line(lead, reasons))))
    context = f"#{lead.id} · received {slack_date(lead.created_at)}"
    if rule_name:
        context += f" · rule: {escape(rule_name)}"
    if lead.assignee_id and lead.status == Status.NEW:
        context += f" · suggested owner {mention(lead.assignee_id)}"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=context)]))
    crm_line = _crm_line(crm_links, crm_pending)
    if crm_line:
        blocks.append(
            ContextBlock(block_id=BlockId.LEAD_CRM.value, elements=[MarkdownTextObject(text=crm_line)])
        )
    blocks.append(ActionsBlock(block_id=BlockId.LEAD_ACTIONS.value, elements=_actions(lead)))
    # The fallback is what notifications show: plain words, escaped like everything else.
    text = f"New lead: {escape(display_name(lead))}"
    if lead.status != Status.NEW:
        text = f"Lead {escape(display_name(lead))}: {Status(lead.status).label}"
    return text, blocks
