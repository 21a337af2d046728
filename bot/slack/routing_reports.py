"""`/handoff route simulate` and `/handoff route fairness` as mrkdwn: counts per channel and rep
(before → after), and per rep per week. Only stored IDs become mentions and links."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot import messages
from bot.slack.mrkdwn import channel_link, escape, mention


def simulation_text(
    *,
    count: int,
    channels_now: Counter[str | None],
    reps_now: Counter[str],
    channels_draft: Counter[str | None] | None,
    reps_draft: Counter[str] | None,
    draft_name: str | None,
    moved: int,
) -> str:
    if count == 0:
        return messages.SIMULATE_NONE
    if draft_name is None:
        lines = [messages.SIMULATE_HEAD.format(count=count)]
    else:
        lines = [messages.SIMULATE_HEAD_DRAFT.format(count=count, name=escape(draft_name))]

    def pair(now: int, draft: int | None) -> str:
        return f"{now}" if draft is None else (f"{now} → {draft}" if draft != now else f"{now} (same)")

    lines.append("By channel:")
    channel_keys = sorted(
        set(channels_now) | set(channels_draft or {}), key=lambda k: (-channels_now.get(k, 0), str(k))
    )
    for channel in channel_keys:
        after = None if channels_draft is None else channels_draft.get(channel, 0)
        lines.append(f"• {channel_link(channel)}: {pair(channels_now.get(channel, 0), after)}")
    rep_keys = sorted(set(reps_now) | set(reps_draft or {}), key=lambda k: (-reps_now.get(k, 0), k))
    if rep_keys:
        lines.append("By rep:")
        for rep in rep_keys:
            after = None if reps_draft is None else reps_draft.get(rep, 0)
            lines.append(f"• {mention(rep)}: {pair(reps_now.get(rep, 0), after)}")
    if draft_name is not None:
        lines.append(
            messages.SIMULATE_MOVED.format(moved=moved, count=count) if moved else messages.SIMULATE_SAME
        )
    lines.append(messages.SIMULATE_NOTE)
    return "\n".join(lines)


def fairness_text(weeks: Sequence[tuple[str, dict[str, dict[str, int]]]]) -> str:
    lines = [messages.FAIRNESS_HEAD]
    for label, reps in weeks:
        lines.append(f"*{escape(label)}*")
        if not reps:
            lines.append(f"• {messages.FAIRNESS_EMPTY}")
        for rep in sorted(reps, key=lambda r: (-reps[r]["offered"], r)):
            c = reps[rep]
            lines.append(
                f"• {mention(rep)}: offered {c['offered']} · claimed {c['claimed']} · "
                f"passed {c['passed']} · capped {c['capped']}"
            )
    return "\n".join(lines)
