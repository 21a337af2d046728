"""Texts of SLA reminders, escalations and nudges (pure; lead-provided text is escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from bot.domain.lead import Status
from bot.domain.sla import human_duration, next_action
from bot.slack.blocks.lead_card import display_name
from bot.slack.mrkdwn import channel_link, escape, mention


def _lead(lead: Any) -> str:
    return f"#{lead.id} *{escape(display_name(lead))}*"


def reminder(lead: Any, *, reps: Sequence[str], waited: timedelta) -> str:
    who = " ".join(mention(r) for r in reps)
    ask = f"{who} — can one of you claim it?" if who else "Can someone claim it?"
    return (
        f":alarm_clock: This lead has waited {human_duration(waited)} (working time) without a claim. {ask}"
    )


def escalated(managers: Sequence[str], *, waited: timedelta) -> str:
    if not managers:
        return f":rotating_light: Still unclaimed after {human_duration(waited)} (working time), and no manager is set."
    who = ", ".join(mention(m) for m in managers)
    return (
        f":rotating_light: Still unclaimed after {human_duration(waited)} (working time): escalated to {who}."
    )


def escalation_dm(lead: Any, *, waited: timedelta) -> str:
    return (
        f":rotating_light: Lead {_lead(lead)} in {channel_link(lead.channel_id)} has waited "
        f"{human_duration(waited)} (working time) and nobody has claimed it. Can you find it an owner?"
    )


def reassigned(lead: Any, *, rep: str, waited: timedelta) -> str:
    return (
        f":arrows_counterclockwise: Unclaimed after {human_duration(waited)} (working time): "
        f"{mention(rep)} is now the suggested owner."
    )


def reassigned_dm(lead: Any, *, waited: timedelta) -> str:
    return (
        f":arrows_counterclockwise: Lead {_lead(lead)} in {channel_link(lead.channel_id)} has waited "
        f"{human_duration(waited)} (working time); you're next in line. Claim it on the card."
    )


def verdict_nudge(lead: Any, *, waited: timedelta) -> str:
    return (
        f":hourglass: You claimed lead {_lead(lead)} {human_duration(waited)} (working time) ago and it has "
        f"no verdict yet. Accept or reject it on the card in {channel_link(lead.channel_id)} — marketing is waiting to hear."
    )


def stage_nudge(lead: Any, *, days: int) -> str:
    status = Status(lead.status)
    step = next_action(lead) or "Update it"
    return (
        f":hourglass: Lead {_lead(lead)} has been *{status.label}* for {days} working "
        f"day{'s' if days != 1 else ''}. Next: {step}. Move it on the card in {channel_link(lead.channel_id)} "
        f"or with `/lead status {lead.id} <stage>`."
    )


def batch_reminder(label: str, *, waiting: int, reps: Sequence[str], waited: timedelta) -> str:
    """One reminder for the leads of a bulk batch, in its summary's thread."""
    who = " ".join(mention(r) for r in reps)
    return (
        f":alarm_clock: {waiting} lead{'s' if waiting != 1 else ''} of {escape(label)} still wait for a claim "
        f"after {human_duration(waited)} (working time) or more. {who} — *Claim next* on the summary "
        "hands you the best one."
    ).replace("  ", " ")


def batch_escalation_dm(label: str, channel_id: str, *, waiting: int, waited: timedelta) -> str:
    return (
        f":rotating_light: {waiting} lead{'s' if waiting != 1 else ''} of {escape(label)} in "
        f"{channel_link(channel_id)} have waited {human_duration(waited)} (working time) or more and "
        "nobody has claimed them. Can you find them owners?"
    )
